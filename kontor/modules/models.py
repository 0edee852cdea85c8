"""Whether a module is on: the company's switch and the departments' overrides."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kontor.core.access import ScopedQuerySet

MODULE_SWITCH_TYPE = "modules.moduleswitch"


class ModuleSwitch(models.Model):
    """One module on or off: for the whole company (no department) or, overriding what the
    department inherits, for a department and the departments under it.

    No row is the default: a module is on for the company, and a department inherits.
    """

    # Placed nowhere: only a grant with scope "all" reaches the switches.
    access_owner_field = None
    access_department_field = None

    module = models.CharField(_("module"), max_length=40)
    department = models.ForeignKey(
        settings.KONTOR_DEPARTMENT_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    enabled = models.BooleanField(_("on"))
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("module switch")
        verbose_name_plural = _("module switches")
        constraints = [
            models.UniqueConstraint(
                fields=["module", "department"], name="moduleswitch_one_per_department"
            ),
            # NULLs are distinct in a unique constraint: the company's own switch is one row.
            models.UniqueConstraint(
                fields=["module"],
                condition=models.Q(department__isnull=True),
                name="moduleswitch_one_for_company",
            ),
        ]

    def __str__(self):
        from kontor.core import modules

        module = modules.get(self.module)
        label = str(module.label) if module else self.module
        where = str(self.department) if self.department_id else str(_("the company"))
        return f"{label}: {where}"

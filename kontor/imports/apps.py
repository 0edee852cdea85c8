from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "kontor.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self):
        from kontor.core import events, types

        from . import jobs
        from .models import ImportJob
        from .views import may_import

        # Audited (its runs and undos), and grantable: "edit" with scope "all" makes an
        # administrator of imports (everyone's list, undo).
        types.register(types.AuditedType.of(ImportJob, _("import"), _("imports")))
        types.register_menu_page(
            types.MenuPage(types.MenuEntry(_("Import"), order=900), "imports:list", may_import)
        )
        # A worker resumes the imports whose run died.
        events.add_pass(jobs.resume_abandoned)

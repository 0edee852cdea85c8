from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kontor.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from kontor.core import types

        from .models import Department, Role, User

        # Audited and granted on like records, edited in the settings area.
        for model, singular, plural in (
            (User, _("user"), _("users")),
            (Department, _("department"), _("departments")),
            (Role, _("role"), _("roles")),
        ):
            types.register(types.AuditedType.of(model, singular, plural))

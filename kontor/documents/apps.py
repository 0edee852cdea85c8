from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "kontor.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        from kontor.core import types

        from . import services
        from .models import CompanyDetails

        types.register(
            types.AuditedType.of(CompanyDetails, _("company details"), _("company details"))
        )
        types.register_settings_page(
            types.SettingsPage(
                "documents:company_details", _("Company details"), services.may_view_details
            )
        )

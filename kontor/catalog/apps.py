from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kontor.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from kontor.core import types

        from .models import VatRate, may_manage_vat_rates
        from .types import PRODUCT

        types.register(PRODUCT)
        # Audited, and grantable in the roles editor: "edit" with scope "everything" on it
        # is what makes someone keep the rates.
        types.register(types.AuditedType.of(VatRate, _("VAT rate"), _("VAT rates")))
        types.register_settings_page(
            types.SettingsPage("catalog:vat_rate_list", _("VAT rates"), may_manage_vat_rates)
        )

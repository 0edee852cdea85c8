from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kontor.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from kontor.core import modules, types

        from .api import router
        from .models import VatRate, may_manage_vat_rates
        from .types import PRODUCT

        types.register(PRODUCT)
        # VAT rates are the company's tax settings (deals and documents read them): not
        # the module's.
        modules.register(
            modules.Module(
                "products",
                _("Products"),
                _("The product catalog and its prices."),
                order=40,
                object_types=(PRODUCT.object_type,),
                pages=("catalog:product_*",),
                routers=(router,),
            )
        )
        # Audited, and grantable in the roles editor: "edit" with scope "everything" on it
        # is what makes someone keep the rates.
        types.register(types.AuditedType.of(VatRate, _("VAT rate"), _("VAT rates")))
        types.register_settings_page(
            types.SettingsPage("catalog:vat_rate_list", _("VAT rates"), may_manage_vat_rates)
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "kontor.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from kontor.core import modules, types

        from .api import router
        from .types import COMPANY, PERSON

        types.register(PERSON)
        types.register(COMPANY)
        modules.register(
            modules.Module(
                "contacts",
                _("Contacts"),
                _("People and companies, their duplicates and important dates."),
                order=10,
                object_types=(PERSON.object_type, COMPANY.object_type),
                pages=("contacts:*",),
                routers=(router,),
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "kontor.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from kontor.core import types

        from .types import COMPANY, PERSON

        types.register(PERSON)
        types.register(COMPANY)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "kontor.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from kontor.core import search

        from .models import Company, Person

        search.register(Person, label=_("People"), ordering=("last_name", "first_name", "id"))
        search.register(Company, label=_("Companies"), ordering=("name", "id"))

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "kontor.contacts"
    label = "contacts"
    verbose_name = _("Contacts")

    def ready(self):
        from kontor.core import search

        from . import queries
        from .models import Company, Person

        search.register(
            Person,
            label=_("People"),
            ordering=("last_name", "first_name", "id"),
            url_name="contacts:person_detail",
            subtitle=lambda person: person.position,
            match_fields=queries.person_match_fields,
            prepare_hits=queries.people_hits,
            # The employer's name is not in a person's own document: a reader who cannot
            # see the company must not find its people by its name.
            links=("company",),
        )
        search.register(
            Company,
            label=_("Companies"),
            ordering=("name", "id"),
            url_name="contacts:company_detail",
            subtitle=lambda company: company.industry,
            match_fields=queries.company_match_fields,
            prepare_hits=queries.company_hits,
        )

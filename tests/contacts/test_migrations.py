"""contacts 0006: people's search documents written before it lose the employer's name."""

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from kontor.contacts import services
from kontor.core import search
from kontor.core.access import SYSTEM
from kontor.core.models import SearchDocument

rewrite = importlib.import_module(
    "kontor.contacts.migrations.0006_person_search_without_employer"
).rewrite_documents


def _run_migration():
    def execute(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    rewrite(apps, SimpleNamespace(connection=connection, execute=execute))


def test_old_documents_are_rewritten_as_the_person_writes_them_now(db):
    company = services.create_company({"name": "Qorvex Holding"}, actor=SYSTEM)
    person = services.create_person(
        {
            "first_name": "Ivan",
            "middle_name": "Petrovich",
            "last_name": "Sidorov",
            "position": "Buyer",
            "company_id": company.pk,
            "phones": [{"number": "8 (916) 123-45-67"}, {"number": "+49 30 1234567"}],
            "emails": [{"address": "Ivan@Example.com"}],
        },
        actor=SYSTEM,
    )
    current = search.document_body(person)
    documents = SearchDocument.objects.filter(object_type="contacts.person", object_id=person.pk)
    # As 0004's code wrote it: the employer's name after the position.
    documents.update(body=current.replace("buyer", "buyer qorvex holding"))
    assert search.matching_documents(["qorvex"], "contacts.person").exists()

    _run_migration()

    assert documents.get().body == current
    assert not search.matching_documents(["qorvex"], "contacts.person").exists()
    assert search.matching_documents(["sidorov", "79161234567"], "contacts.person").exists()

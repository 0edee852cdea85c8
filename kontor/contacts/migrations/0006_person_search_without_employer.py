"""A person's search document no longer quotes the employer's name.

People are found by their company's name through the company's own document, and only
by readers who can see the company (kontor.core.search, ``links``). Documents written
before quote the name, so a reader who cannot see the company would still find its
people by it: each employed person's document is rewritten as ``Person.search_text``
now writes it (the text is rebuilt here from the historical models, as migrations
freeze code; kept in step by tests/contacts/test_migrations.py).
"""

import importlib

from django.db import migrations

CHUNK = 2000
# SQLite's trigger re-tokenises each rewritten document (45 s for 100,000 people):
# rebuilding the trigram index once afterwards takes a quarter of that.
SEARCH_INDEX = importlib.import_module("kontor.core.migrations.0002_search_index")
UPDATE_TRIGGER = next(s for s in SEARCH_INDEX.SQLITE_CREATE if "core_search_au" in s)


def _body(person, emails, phones) -> str:
    full_name = " ".join(p for p in (person[1], person[2], person[3]) if p)
    terms = [full_name, person[4], *emails]
    for raw, e164 in phones:
        terms.append(raw)
        if e164:
            terms.append(e164.lstrip("+"))
    return " ".join(" ".join(terms).casefold().split())


def rewrite_documents(apps, schema_editor):
    Person = apps.get_model("contacts", "Person")
    Phone = apps.get_model("contacts", "Phone")
    Email = apps.get_model("contacts", "Email")
    table = apps.get_model("core", "SearchDocument")._meta.db_table
    quote = schema_editor.connection.ops.quote_name
    employed = Person.objects.exclude(company_name="").order_by("id")
    fields = ("id", "first_name", "middle_name", "last_name", "position")
    last_id = 0
    sqlite = schema_editor.connection.vendor == "sqlite"
    if sqlite:
        schema_editor.execute("DROP TRIGGER core_search_au")
    with schema_editor.connection.cursor() as cursor:
        while people := list(employed.filter(id__gt=last_id).values_list(*fields)[:CHUNK]):
            ids = [p[0] for p in people]
            emails = {pk: [] for pk in ids}
            for pk, address in (
                Email.objects.filter(person_id__in=ids)
                .order_by("position", "id")
                .values_list("person_id", "address")
            ):
                emails[pk].append(address)
            numbers = {pk: [] for pk in ids}
            for pk, raw, e164 in (
                Phone.objects.filter(person_id__in=ids)
                .order_by("position", "id")
                .values_list("person_id", "raw", "e164")
            ):
                numbers[pk].append((raw, e164))
            cursor.executemany(
                f"UPDATE {quote(table)} SET body = %s WHERE object_type = 'contacts.person' "
                "AND object_id = %s",
                [(_body(p, emails[p[0]], numbers[p[0]]), p[0]) for p in people],
            )
            last_id = ids[-1]
    if sqlite:
        schema_editor.execute(UPDATE_TRIGGER)
        schema_editor.execute("INSERT INTO core_search_fts(core_search_fts) VALUES ('rebuild')")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_phone_extension"),
        ("core", "0002_search_index"),
    ]

    operations = [migrations.RunPython(rewrite_documents, migrations.RunPython.noop)]

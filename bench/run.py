"""Time Kontor's query/service layer against raw SQL on the benchmark database.

    .venv/bin/python bench/run.py                      # bench/out/kontor-1m.sqlite3
    .venv/bin/python bench/run.py --database-url postgres://bench@127.0.0.1:55432/bench

Make the database first with bench/generate.py. For each operation and each user (the
admin, and the head of sales whose subtree holds nine records in ten) it runs many
iterations with varied inputs, Kontor's way and as hand-written SQL returning the same
rows (scope filter included), and prints medians, 95th percentiles and the ratio as a
Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402
import phonenumbers  # noqa: E402

SEED = 7


def typed_forms(e164: str) -> list[str]:
    """Ways a caller-ID or a user might write a Russian number."""
    d = e164[2:]
    return [
        e164,
        f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
        f"+7 {d[:3]} {d[3:6]} {d[6:]}",
        f"8{d}",
    ]


def raw_e164(typed: str) -> str | None:
    """The typed number as E.164, by phonenumbers directly (no Kontor code)."""
    try:
        number = phonenumbers.parse(typed, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sample_inputs(connection) -> tuple[list[int], list[str], list[str]]:
    """Varied inputs from the benchmark database: 300 random person ids, their Russian
    numbers each typed one way or another, and search terms (last names of four letters
    or more, every other one cut to its first four letters, as someone typing)."""
    rng = random.Random(SEED)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM contacts_person")
        max_id = cursor.fetchone()[0]
        ids = [rng.randint(1, max_id) for _ in range(300)]
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(
            f"SELECT e164 FROM contacts_phone WHERE person_id IN ({marks}) AND e164 LIKE '+7%%'",
            ids,
        )
        numbers = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT last_name FROM contacts_person WHERE id IN ({marks})", ids)
        names = sorted({row[0] for row in cursor.fetchall() if len(row[0]) >= 4})
    rng.shuffle(names)
    typed = [rng.choice(typed_forms(e164)) for e164 in numbers]
    search_terms = [n if i % 2 else n[:4] for i, n in enumerate(names)]
    return ids, typed, search_terms


def timed(fn, inputs, iterations: int) -> list[float]:
    # Every input once first, so that neither side is timed on pages the other one
    # brought into memory.
    for value in inputs:
        fn(value)
    times = []
    for i in range(iterations):
        value = inputs[i % len(inputs)]
        start = time.perf_counter()
        fn(value)
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18]


class RawSQL:
    """The same reads written by hand: what a query costs with no framework around it."""

    PERSON_COLUMNS = (
        "p.id, p.first_name, p.middle_name, p.last_name, p.position, p.birthday, p.source, "
        "p.notes, p.owner_id, p.department_id, p.version, p.created_at, p.updated_at, "
        "p.company_id"
    )

    def __init__(self, connection, user):
        self.connection = connection
        self.scope_sql, self.scope_params = self._scope(user)

    def _scope(self, user):
        from kontor.core.access import Scope, scope_for

        scope = scope_for(user, "contacts.person", "view")
        if scope == Scope.ALL:
            return "", []
        ids = user.department_subtree_ids()
        marks = ", ".join(["%s"] * len(ids))
        return f"(p.owner_id = %s OR p.department_id IN ({marks}))", [user.pk, *ids]

    def where(self, *conditions: str) -> str:
        conditions = [c for c in (*conditions, self.scope_sql) if c]
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    def rows(self, sql, params):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def phone_lookup(self, typed: str):
        """Parse the typed number (phonenumbers, as Kontor does), then one read.

        The phones with that E.164 joined to their person (with the employer's name) or
        company, the scope in the WHERE clause; then at most 20 of each, as Kontor
        returns them. One query was faster here than a query per kind.
        """
        e164 = raw_e164(typed)
        if e164 is None:
            return [], []
        scope_p, scope_c = "", ""
        if self.scope_sql:
            scope_p = f" AND {self.scope_sql}"
            scope_c = " AND " + self.scope_sql.replace("p.", "c.")
        rows = self.rows(
            "SELECT p.id, p.first_name, p.middle_name, p.last_name, p.position, p.company_id, "
            "p.owner_id, p.department_id, e.name, c.id, c.name, c.owner_id, c.department_id "
            "FROM contacts_phone ph "
            "LEFT JOIN contacts_person p ON p.id = ph.person_id "
            "LEFT JOIN contacts_company e ON e.id = p.company_id "
            "LEFT JOIN contacts_company c ON c.id = ph.company_id "
            f"WHERE ph.e164 = %s AND ((p.id IS NOT NULL{scope_p}) OR (c.id IS NOT NULL{scope_c})) "
            "ORDER BY p.last_name, p.first_name, p.id, c.name, c.id",
            [e164, *self.scope_params, *self.scope_params],
        )
        people, companies = {}, {}
        for row in rows:
            if row[0] is not None and len(people) < 20:
                people.setdefault(row[0], row[:9])
            elif row[9] is not None and len(companies) < 20:
                companies.setdefault(row[9], row[9:])
        return list(people.values()), list(companies.values())

    def _page(self, where: str, params: list):
        return self.rows(
            f"SELECT {self.PERSON_COLUMNS}, c.name, u.email, u.first_name, u.last_name, d.name "
            "FROM contacts_person p "
            "LEFT JOIN contacts_company c ON c.id = p.company_id "
            "LEFT JOIN accounts_user u ON u.id = p.owner_id "
            "LEFT JOIN accounts_department d ON d.id = p.department_id "
            f"{self.where(where)} ORDER BY p.last_name, p.first_name, p.id LIMIT 50",
            [*params, *self.scope_params],
        )

    def list_page(self, _unused=None):
        return self._page("", [])

    def list_count(self, _unused=None):
        return self.rows(f"SELECT COUNT(*) FROM contacts_person p{self.where()}", self.scope_params)

    def name_search(self, q: str):
        """People whose own document or visible employer's document holds ``q``, as
        Kontor's search matches them (kontor.core.search: links)."""
        if self.connection.vendor == "sqlite":
            # A type's documents: ids from its search code << 40 on (search.document_id).
            def docs(code):
                first = code << 40
                return (
                    f"SELECT rowid - {first} FROM core_search_fts WHERE core_search_fts "
                    f"MATCH %s AND rowid BETWEEN {first} AND {first + (1 << 40) - 1}"
                )

            param = '"' + q.casefold() + '"'
        else:

            def docs(code):
                object_type = {1: "contacts.person", 2: "contacts.company"}[code]
                return (
                    "SELECT object_id FROM core_searchdocument "
                    f"WHERE object_type = '{object_type}' AND body LIKE %s"
                )

            param = "%" + q.casefold() + "%"
        scope_c = " AND " + self.scope_sql.replace("p.", "c.") if self.scope_sql else ""
        employers = f"SELECT c.id FROM contacts_company c WHERE c.id IN ({docs(2)}){scope_c}"
        return self._page(
            f"(p.id IN ({docs(1)}) OR p.company_id IN ({employers}))",
            [param, param, *self.scope_params],
        )

    def get_person(self, pk: int):
        person = self.rows(
            f"SELECT {self.PERSON_COLUMNS}, c.name, u.email, d.name FROM contacts_person p "
            "LEFT JOIN contacts_company c ON c.id = p.company_id "
            "LEFT JOIN accounts_user u ON u.id = p.owner_id "
            "LEFT JOIN accounts_department d ON d.id = p.department_id "
            f"{self.where('p.id = %s')}",
            [pk, *self.scope_params],
        )
        children = [
            self.rows(f"SELECT * FROM {table} WHERE person_id = %s", [pk])
            for table in (
                "contacts_phone",
                "contacts_email",
                "contacts_address",
                "contacts_familymember",
                "contacts_importantdate",
            )
        ]
        tags = self.rows(
            "SELECT t.id, t.name FROM contacts_tag t JOIN contacts_person_tags pt "
            "ON pt.tag_id = t.id WHERE pt.person_id = %s",
            [pk],
        )
        return person, children, tags


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--only", help="run only operations whose name contains this")
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)
    from django.db import connection

    from kontor.accounts.models import User
    from kontor.contacts import queries, services
    from kontor.contacts.models import Person
    from kontor.contacts.queries import ListFilters
    from kontor.core import types

    people_count = Person.objects.count()
    person_type = types.by_model(Person)
    ids, typed, search_terms = sample_inputs(connection)

    n = args.iterations
    results = []
    for email in ("admin@bench.example", "head@bench.example"):
        user = User.objects.get(email=email)
        raw = RawSQL(connection, user)
        label = email.split("@")[0]

        def kontor_phone(text, user=user):
            found = services.lookup_by_phone(text, actor=user)
            return [str(p.company) for p in found["people"]], found["companies"]

        # Both sides of the lookup must find the same records, or the ratio means nothing.
        for text in typed:
            found = services.lookup_by_phone(text, actor=user)
            people, companies = raw.phone_lookup(text)
            assert [p.pk for p in found["people"]] == [row[0] for row in people], text
            assert [c.pk for c in found["companies"]] == [row[0] for row in companies], text

        for q in search_terms:
            page = queries.people(user, ListFilters(q=q))[:50]
            assert [p.pk for p in page] == [row[0] for row in raw.name_search(q)], q

        def kontor_page(_unused, user=user):
            # The rows the UI list page reads with the type's own columns shown (it then
            # prefetches their phones, emails and tags, which the raw SQL does not read).
            rows = person_type.list_page_query(user, ListFilters(), person_type.columns)[:50]
            return [(p.full_name, str(p.company), str(p.owner)) for p in rows]

        def kontor_count(_unused, user=user):
            return queries.people(user).count()

        def kontor_search(q, user=user):
            page = queries.people(user, ListFilters(q=q))[:50]
            return [(p.full_name, str(p.company), str(p.owner)) for p in page]

        def kontor_get(pk, user=user):
            from kontor.core.errors import NotFound

            try:
                person = queries.person(user, pk)
            except NotFound:
                return None
            return [list(getattr(person, r).all()) for r in ("phones", "emails", "tags")]

        operations = [
            ("phone lookup", kontor_phone, typed, raw.phone_lookup, typed, n),
            ("list page 1 (50, by name)", kontor_page, [None], raw.list_page, [None], n // 4),
            ("list total count", kontor_count, [None], raw.list_count, [None], 10),
            ("name search, page 1", kontor_search, search_terms, raw.name_search, search_terms, n),
            ("get one person", kontor_get, ids, raw.get_person, ids, n),
        ]
        if args.only:
            operations = [op for op in operations if args.only in op[0]]
        for name, kontor_fn, kontor_inputs, raw_fn, raw_inputs, iterations in operations:
            kontor_times = timed(kontor_fn, kontor_inputs, iterations)
            raw_times = timed(raw_fn, raw_inputs, iterations)
            results.append(
                {
                    "user": label,
                    "operation": name,
                    "iterations": iterations,
                    "kontor_median_ms": statistics.median(kontor_times),
                    "kontor_p95_ms": p95(kontor_times),
                    "raw_median_ms": statistics.median(raw_times),
                    "raw_p95_ms": p95(raw_times),
                }
            )
            r = results[-1]
            print(
                f"{label:6s} {name:28s} kontor {r['kontor_median_ms']:8.2f} ms "
                f"(p95 {r['kontor_p95_ms']:8.2f})  raw {r['raw_median_ms']:8.2f} ms "
                f"(p95 {r['raw_p95_ms']:8.2f})  x{r['kontor_median_ms'] / r['raw_median_ms']:.1f}",
                flush=True,
            )

    print(f"\n{connection.vendor}, {people_count:,} people\n")
    print("| user | operation | Kontor median (p95) | raw SQL median (p95) | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['user']} | {r['operation']} | {r['kontor_median_ms']:.2f} ms "
            f"({r['kontor_p95_ms']:.2f}) | {r['raw_median_ms']:.2f} ms ({r['raw_p95_ms']:.2f}) "
            f"| {r['kontor_median_ms'] / r['raw_median_ms']:.1f}× |"
        )
    suffix = f"-{args.only.replace(' ', '_')}" if args.only else ""
    out = _setup.OUT_DIR / f"results-{connection.vendor}{suffix}.json"
    out.write_text(json.dumps({"people": people_count, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

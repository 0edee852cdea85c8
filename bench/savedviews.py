"""A saved view over 1,000,000 people: page 1 of a view with three filters.

    .venv/bin/python bench/savedviews.py            # bench/out/kontor-1m.sqlite3
    .venv/bin/python bench/savedviews.py --database-url postgres://bench@127.0.0.1:55432/bench

Make the database with bench/generate.py; the custom fields and their values come from
bench/custom_fields.py's first run (made here if missing). For the admin and a sales team
member, a view is saved through the saved views service with three filters (segment =
gold, score ≥ 50,000 and a department, all the list's own parameters) sorted by score,
highest first. Timed:

- **page 1**: the view opened as the list page opens it (its query string through
  ``web.records.list_filters``, the type's ``list_page_query``, the 50 rows read with one
  more to know a next page follows, with their cells), beside the same rows in
  hand-written SQL in the same run;
- **total**: the pager's capped count (up to 10,001 rows), which the page asks for after
  its rows show, beside its SQL;
- **whole page** and **whole total**: both HTTP answers rendered by Django's test client
  (the Views menu, filters, template), for context.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup  # noqa: E402
from custom_fields import define_fields  # noqa: E402
from run import p95, timed  # noqa: E402

PAGE = 50
VIEW_NAME = "Bench: gold, score 50k+, one team"
SEGMENTS = ["gold", "silver", "platinum"]


def save_view(user, department_id: int, segment: str):
    from kontor.core import types
    from kontor.savedviews import services
    from kontor.savedviews.models import SavedView

    rt = types.get("contacts.person")
    name = f"{VIEW_NAME} ({segment})"
    SavedView.objects.filter(owner=user, name=name).delete()
    query = {
        "custom": [f"segment:{segment}", "score__gte:50000"],
        "department_id": [str(department_id)],
        "sort": ["-cf.score"],
    }
    return services.create(rt, {"name": name, "query": query}, actor=user)


class RawSQL:
    """The view's rows and capped count by hand: the expressions written out, the
    reader's scope in the WHERE clause."""

    def __init__(self, connection, user, fields, department_id: int):
        from kontor.core.access import Scope, scope_for
        from kontor.core.pagination import COUNT_CAP

        self.connection = connection
        self.cap = COUNT_CAP
        segment, score = fields["segment"].pk, fields["score"].pk
        if connection.vendor == "sqlite":
            seg = f"ifnull(json_extract(p.custom, '$.\"{segment}\"'), x'')"
            self.order = f"ifnull(json_extract(p.custom, '$.\"{score}\"'), x'')"
        else:
            seg = f"(p.custom ->> '{segment}')"
            self.order = f"((p.custom ->> '{score}'))::numeric"
        self.where = f"{seg} = %s AND {self.order} >= 50000 AND p.department_id = %s"
        self.params = [department_id]
        if scope_for(user, "contacts.person", "view") != Scope.ALL:
            self.where += " AND (p.owner_id = %s OR p.department_id = %s)"
            self.params += [user.pk, user.department_id]

    def page(self, segment: str) -> list[int]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id, p.first_name, p.last_name, p.position, p.company_id, p.owner_id, "
                f"p.custom FROM contacts_person p WHERE {self.where} "
                f"ORDER BY {self.order} DESC, p.id DESC LIMIT {PAGE + 1}",
                [segment, *self.params],
            )
            return [row[0] for row in cursor.fetchall()][:PAGE]

    def total(self, segment: str) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM contacts_person p WHERE {self.where} "
                f"LIMIT {self.cap + 1}) AS capped",
                [segment, *self.params],
            )
            # Over the cap the pager says "more than" the cap, and its count is the cap.
            return min(cursor.fetchone()[0], self.cap)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: sqlite:///bench/out/kontor-1m.sqlite3")
    parser.add_argument("--iterations", type=int, default=60)
    args = parser.parse_args(argv)
    _setup.configure(args.database_url)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from kontor.accounts.models import Department, User
    from kontor.contacts.models import Person
    from kontor.core import types
    from kontor.core.pagination import LookaheadPage, capped_count
    from kontor.savedviews import services
    from kontor.web.records import list_filters

    call_command("migrate", interactive=False, verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    fields = define_fields()
    rt = types.get("contacts.person")
    people_count = Person.objects.count()
    team = Department.objects.get(name="Bench Sales Team 1")
    results = []
    for email in ("admin@bench.example", "sales1.1@bench.example"):
        user = User.objects.get(email=email)
        views = {segment: save_view(user, team.pk, segment) for segment in SEGMENTS}
        shown = [c for c in rt.list_columns(user) if c.key in {col.key for col in rt.columns}]
        raw = RawSQL(connection, user, fields, team.pk)

        def query_of(segment, user=user, views=views, shown=shown):
            params = QueryDict(services.open_query(views[segment]).lstrip("?"))
            return rt.list_page_query(user, list_filters(params, rt, user), shown)

        def open_page(segment, shown=shown):
            page = LookaheadPage(query_of(segment).prefetch_related(*rt.list_prefetch), PAGE, 1)
            rows = [[c.value(obj) for c in shown] for obj in page.object_list]
            return [obj.pk for obj in page.object_list], rows

        def total(segment):
            return capped_count(query_of(segment)).count

        for segment in SEGMENTS:
            assert open_page(segment)[0] == raw.page(segment), (email, segment)
            assert total(segment) == raw.total(segment), (email, segment)
        client = Client()
        client.force_login(user)

        def whole_page(segment, client=client, views=views, extra=""):
            answer = client.get(rt.url("list") + services.open_query(views[segment]) + extra)
            assert answer.status_code == 200, answer.status_code

        def whole_total(segment):
            whole_page(segment, extra="&total=1")

        measured = {
            "page": timed(open_page, SEGMENTS, args.iterations),
            "raw_page": timed(raw.page, SEGMENTS, args.iterations),
            "total": timed(total, SEGMENTS, args.iterations),
            "raw_total": timed(raw.total, SEGMENTS, args.iterations),
            "whole_page": timed(whole_page, SEGMENTS, max(args.iterations // 3, 10)),
            "whole_total": timed(whole_total, SEGMENTS, max(args.iterations // 3, 10)),
        }
        label = email.split("@")[0]
        r = {"user": label, "matches": [raw.total(s) for s in SEGMENTS]}
        for name, times in measured.items():
            r[f"{name}_median_ms"] = statistics.median(times)
            r[f"{name}_p95_ms"] = p95(times)
        results.append(r)
        print(
            f"{label:7s} "
            + ", ".join(
                f"{name} {r[name + '_median_ms']:.2f} ms (p95 {r[name + '_p95_ms']:.2f})"
                for name in measured
            )
            + f"; rows per view {r['matches']}",
            flush=True,
        )
        qs = rt.list_page_query(
            user,
            list_filters(QueryDict(services.open_query(views["gold"]).lstrip("?")), rt, user),
            shown,
        )
        print("    plan:", qs[:PAGE].explain().replace("\n", "; "), flush=True)

    print(f"\n{connection.vendor}, {people_count:,} people; a view with 3 filters, by score\n")
    columns = ["page", "raw_page", "total", "raw_total", "whole_page", "whole_total"]
    print("| user | " + " | ".join(f"{c} median (p95)" for c in columns) + " |")
    print("| --- " * (len(columns) + 1) + "|")
    for r in results:
        cells = [f"{r[c + '_median_ms']:.2f} ms ({r[c + '_p95_ms']:.2f})" for c in columns]
        print(f"| {r['user']} | " + " | ".join(cells) + " |")
    out = _setup.OUT_DIR / f"savedviews-{connection.vendor}.json"
    out.write_text(json.dumps({"people": people_count, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

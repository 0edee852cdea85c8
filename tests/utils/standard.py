"""The standard tests every registered record type runs: ``StandardObjectTests``.

A type's test module subclasses it and names the type::

    class TestPersonStandard(StandardObjectTests):
        record_type = PERSON

and inherits every test below, written against the registry alone (paths, URL names,
queries, services, export) and the type's ``Sample`` (``tests/utils/samples.py``): CRUD
through the API and the pages, validation, 404 from outside the scope on every channel,
audit rows, export and search. ``standard_tests_for(record_type)`` makes such a class at
collection time. A type that exists only once a test made it (a custom object type
defined in the database) sets it per test instead, with its sample::

    class TestSiteStandard(StandardObjectTests):
        sample = SITE

        @pytest.fixture(autouse=True)
        def site_type(self, define_type):
            self.record_type = define_type("construction_site", "site", "sites")

``tests/test_registry.py`` fails when a registered type has no class; the classes live
in modules named ``test_standard*.py``.

The company is ``tests/conftest.py``'s ``org``: records sit in Sales Team 1, made by
member_a (role member: view the department, create, edit own); the head of Sales may
also delete and export there; Support's member stands outside.
"""

from __future__ import annotations

import importlib
import itertools
import re
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from kontor.core import files
from kontor.core.access import SYSTEM
from kontor.core.models import AuditEntry
from kontor.core.types import RecordType

from .clients import Api, browser, contains_hit, exported_rows
from .samples import Sample, sample_for

UNKNOWN_ID = 987_654_321
_marks = itertools.count()


def fresh_mark() -> str:
    """A word no other record of the test carries (and that the search finds by itself)."""
    return f"zqstd{next(_marks)}x"


def placed_with(user) -> dict:
    return {"owner_id": user.pk, "department_id": user.department_id}


def detail_tabs(record_type: RecordType) -> list[str]:
    """The detail page's tabs: related only if a registered type links to or from it."""
    related = ["related"] if record_type.links() or record_type.linked_from() else []
    return ["profile", *related, "documents", "history"]


def _page(response, record_id: int) -> tuple[int, str]:
    """Status and page, less what differs between two requests (CSRF tokens) and the id
    the request named (echoed in the page's links)."""
    html = response.content.decode()
    html = re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", html)
    return response.status_code, re.sub(rf"/{record_id}(?=[/?\"])", "/<id>", html)


def _answer(response) -> tuple[int, object]:
    content = response.json() if response.content else None
    return response.status_code, content


def shows_input(html: str, value: str) -> bool:
    """Whether a form shows ``value`` in an input or a text area."""
    return f'value="{value}"' in html or f">{value}</textarea>" in html


class StandardObjectTests:
    """Inherited by ``Test<Type>Standard`` classes; ``record_type`` names the type."""

    record_type: RecordType
    # The type's sample data; by default its entry in tests/utils/samples.py.
    sample: Sample | None = None

    # -- hooks and helpers ------------------------------------------------------------------

    @property
    def rt(self) -> RecordType:
        return self.record_type

    @property
    def sample_data(self) -> Sample:
        return self.sample or sample_for(self.rt)

    @property
    def api_path(self) -> str:
        return f"/{self.rt.path}"

    def make(self, owner, mark: str | None = None):
        """A record carrying ``mark``, owned by ``owner`` in their department."""
        data = self.sample_data.data(mark or fresh_mark()) | placed_with(owner)
        return self.rt.create(data, actor=SYSTEM)

    def fetch(self, pk):
        return self.rt.model.objects.filter(pk=pk).first()

    def created(self, mark: str):
        return self.rt.model.objects.filter(**{self.sample_data.marker_field: mark}).first()

    def link_to(self, obj) -> str:
        return f'href="{self.rt.url("detail", obj.pk)}"'

    def tabs(self) -> list[str]:
        return detail_tabs(self.rt)

    def tab_url(self, pk, tab: str) -> str:
        return self.rt.url("detail", pk) if tab == "profile" else self.rt.url("tab", pk, tab)

    # -- the API ----------------------------------------------------------------------------

    def test_api_create_read_update_delete(self, org):
        api, head = Api(org.member_a), Api(org.sales_head)
        field, value = self.sample_data.change
        mark = fresh_mark()

        made = api.post(self.api_path, self.sample_data.data(mark))
        assert made.status_code == 201, made.content
        record = made.json()
        assert self.created(mark).pk == record["id"]
        assert made["ETag"] == f'"{record["version"]}"'
        url = f"{self.api_path}/{record['id']}"

        read = api.get(url)
        assert read.status_code == 200
        assert read.json() == record and read["ETag"] == made["ETag"]

        changed = api.patch(url, {field: value, "version": record["version"]})
        assert changed.status_code == 200, changed.content
        assert changed.json()[field] == value
        assert changed.json()["version"] == record["version"] + 1
        assert changed["ETag"] == f'"{record["version"] + 1}"'

        stale = api.patch(url, {field: "stale", "version": record["version"]})
        assert stale.status_code == 409
        assert getattr(self.fetch(record["id"]), field) == value
        assert head.delete(f"{url}?version={record['version']}").status_code == 409
        assert self.fetch(record["id"]) is not None

        assert head.delete(f"{url}?version={record['version'] + 1}").status_code == 204
        assert self.fetch(record["id"]) is None
        assert api.get(url).status_code == 404

    def test_api_list_shows_the_record(self, org):
        mark = fresh_mark()
        record = self.make(org.member_a, mark)
        listing = Api(org.member_b).get(f"{self.api_path}?q={mark}")
        assert listing.status_code == 200
        assert [item["id"] for item in listing.json()["items"]] == [record.pk]
        assert listing.json()["count"] == 1

    def test_api_invalid_input_is_422_naming_the_field(self, org):
        api = Api(org.member_a)
        fault, field = self.sample_data.invalid
        mark = fresh_mark()
        made = api.post(self.api_path, self.sample_data.data(mark) | fault)
        assert made.status_code == 422, made.content
        assert field in made.json()["errors"] and made.json()["detail"]
        assert self.created(mark) is None

        record = self.make(org.member_a)
        changed = api.patch(f"{self.api_path}/{record.pk}", fault | {"version": record.version})
        assert changed.status_code == 422, changed.content
        assert field in changed.json()["errors"]
        assert self.fetch(record.pk).version == record.version

    # -- the pages --------------------------------------------------------------------------

    def test_ui_create_edit_delete(self, org):
        member, head = browser(org.member_a), browser(org.sales_head)
        field, value = self.sample_data.change
        mark = fresh_mark()

        assert member.get(self.rt.url("create")).status_code == 200
        form = self.sample_data.form(mark)
        made = member.post(self.rt.url("create"), form | {"save_anyway": "1"})
        record = self.created(mark)
        assert record is not None, made.content.decode()
        assert made.status_code == 302
        assert made["Location"] == self.rt.url("detail", record.pk)
        assert (record.owner_id, record.department_id) == (org.member_a.pk, org.dept.team1.pk)

        listing = member.get(self.rt.url("list"))
        assert listing.status_code == 200 and self.link_to(record) in listing.content.decode()

        edit_page = member.get(self.rt.url("edit", record.pk))
        assert edit_page.status_code == 200 and shows_input(edit_page.content.decode(), mark)
        edit = form | {field: value, "version": record.version}
        assert member.post(self.rt.url("edit", record.pk), edit).status_code == 302
        assert getattr(self.fetch(record.pk), field) == value

        stale = member.post(self.rt.url("edit", record.pk), edit | {field: "stale"})
        assert stale.status_code == 409
        assert 'value="stale"' in stale.content.decode() or ">stale<" in stale.content.decode()
        assert getattr(self.fetch(record.pk), field) == value

        confirm = head.get(self.rt.url("delete", record.pk))
        assert confirm.status_code == 200 and str(self.fetch(record.pk)) in confirm.content.decode()
        assert self.fetch(record.pk) is not None  # asking is not deleting
        gone = head.post(self.rt.url("delete", record.pk), {"version": record.version + 1})
        assert gone.status_code == 302 and gone["Location"] == self.rt.url("list")
        assert self.fetch(record.pk) is None

    def test_ui_invalid_input_is_422_with_the_input_kept(self, org):
        member = browser(org.member_a)
        fault, field = self.sample_data.invalid_form
        mark = fresh_mark()
        form = self.sample_data.form(mark) | fault
        page = member.post(self.rt.url("create"), form)
        assert page.status_code == 422
        html = page.content.decode()
        assert f'id="err_{field}"' in html
        # What the user typed comes back, the faulty value and the others alike.
        typed = {name: value for name, value in form.items() if str(value).strip()}
        assert {name: escape(value) in html for name, value in typed.items()} == dict.fromkeys(
            typed, True
        )
        assert self.created(mark) is None

        record = self.make(org.member_a)
        edit = self.sample_data.form(mark) | fault | {"version": record.version}
        page = member.post(self.rt.url("edit", record.pk), edit)
        assert page.status_code == 422 and f'id="err_{field}"' in page.content.decode()
        assert self.fetch(record.pk).version == record.version

    def test_detail_tabs_render(self, org):
        record = self.make(org.member_a)
        files.add_attachment(record, SimpleUploadedFile("terms.txt", b"terms"), actor=SYSTEM)
        self.rt.update(record, {self.sample_data.change[0]: "Second version"}, actor=org.member_a)
        member = browser(org.member_a)
        pages = {tab: member.get(self.tab_url(record.pk, tab)) for tab in self.tabs()}
        for tab, page in pages.items():
            assert page.status_code == 200, tab
            assert str(record) in page.content.decode(), tab
        assert "terms.txt" in pages["documents"].content.decode()
        # One entry per audit row: created, the attachment, updated.
        entries = AuditEntry.objects.for_object(record).count()
        assert entries >= 2
        assert pages["history"].content.decode().count('class="timeline-item"') == entries
        assert member.get(self.rt.url("tab", record.pk, "nonsense")).status_code == 404
        partial = member.get(
            self.rt.url("tab", record.pk, "history"),
            headers={"HX-Request": "true", "HX-Target": "tab-panel"},
        )
        assert b"timeline" in partial.content and b"<html" not in partial.content

    # -- scope: a record outside it does not exist ------------------------------------------

    def test_outside_the_scope_every_channel_answers_as_for_an_unknown_id(self, org):
        record = self.make(org.member_a)
        attachment_name = "hidden-terms.txt"
        files.add_attachment(record, SimpleUploadedFile(attachment_name, b"x"), actor=SYSTEM)
        field, value = self.sample_data.change
        outsider_api, outsider = Api(org.support_member), browser(org.support_member)
        insider_api, insider = Api(org.member_a), browser(org.member_a)

        def api_calls(pk):
            url = f"{self.api_path}/{pk}"
            upload = {"file": SimpleUploadedFile("x.txt", b"x")}
            return {
                "get": lambda api: api.get(url),
                "patch": lambda api: api.patch(url, {field: value, "version": record.version}),
                "delete": lambda api: api.delete(url),
                "history": lambda api: api.get(f"{url}/history"),
                "attachments": lambda api: api.get(f"{url}/attachments"),
                "upload": lambda api: api.client.post(
                    f"/api/v1{url}/attachments", upload, headers=api.headers
                ),
            }

        for channel, call in api_calls(record.pk).items():
            hidden = _answer(call(outsider_api))
            assert hidden[0] == 404, channel
            assert hidden == _answer(api_calls(UNKNOWN_ID)[channel](outsider_api)), channel
        for channel in ("get", "history", "attachments"):
            assert api_calls(record.pk)[channel](insider_api).status_code == 200, channel

        def page_calls(pk):
            edit = self.sample_data.form(fresh_mark()) | {"version": record.version}
            calls = {f"tab {tab}": ("get", self.tab_url(pk, tab), None) for tab in self.tabs()}
            calls |= {
                "edit": ("get", self.rt.url("edit", pk), None),
                "edit post": ("post", self.rt.url("edit", pk), edit),
                "delete": ("get", self.rt.url("delete", pk), None),
                "delete post": ("post", self.rt.url("delete", pk), {"version": record.version}),
                "upload": ("post", self.rt.url("documents", pk), {}),
            }
            return calls

        for channel, (method, url, data) in page_calls(record.pk).items():
            hidden = _page(getattr(outsider, method)(url, data or {}), record.pk)
            assert hidden[0] == 404, channel
            method, url, data = page_calls(UNKNOWN_ID)[channel]
            assert hidden == _page(getattr(outsider, method)(url, data or {}), UNKNOWN_ID), channel
        for tab in self.tabs():
            assert insider.get(self.tab_url(record.pk, tab)).status_code == 200, tab

        kept = self.fetch(record.pk)
        assert kept.version == record.version and getattr(kept, field) != value
        assert files.attachments_of(kept).count() == 1

    def test_outside_the_scope_lists_search_and_export_leave_the_record_out(self, org):
        """The head of Sales sees Sales Team 1's record and not Support's, in every list."""
        seen_mark, hidden_mark = fresh_mark(), fresh_mark()
        seen, hidden = (
            self.make(org.member_a, seen_mark),
            self.make(org.support_member, hidden_mark),
        )

        def found(user) -> dict[str, set]:
            api, ui = Api(user), browser(user)
            result = {}
            for mark, record in ((seen_mark, seen), (hidden_mark, hidden)):
                listing = api.get(f"{self.api_path}?q={mark}").json()
                hits = api.get(f"/search?q={mark}").json()
                page = ui.get(self.rt.url("list"), {"q": mark}).content.decode()
                search_page = ui.get(reverse("web:search"), {"q": mark}).content.decode()
                channels = {
                    "api.list": any(item["id"] == record.pk for item in listing["items"]),
                    "api.count": listing["count"] > 0,
                    "api.search": contains_hit(hits, record),
                    "ui.list": self.link_to(record) in page,
                    "ui.search": self.link_to(record) in search_page,
                }
                for fmt in ("csv", "xlsx"):
                    export = api.get(f"{self.api_path}/export?format={fmt}")
                    assert export.status_code == 200, (user, fmt)
                    text = "\n".join(",".join(row) for row in exported_rows(export, fmt))
                    channels[f"api.export.{fmt}"] = mark in text
                result[mark] = {name for name, got in channels.items() if got}
            return result

        every = {
            "api.list",
            "api.count",
            "api.search",
            "ui.list",
            "ui.search",
            "api.export.csv",
            "api.export.xlsx",
        }
        assert found(org.sales_head) == {seen_mark: every, hidden_mark: set()}
        assert found(org.admin) == {seen_mark: every, hidden_mark: every}

    def test_export_is_refused_to_who_may_not_export(self, org):
        self.make(org.member_a)
        for fmt in ("csv", "xlsx"):
            answer = Api(org.member_a).get(f"{self.api_path}/export?format={fmt}")
            assert answer.status_code == 403

    # -- audit ------------------------------------------------------------------------------

    def test_every_write_is_audited_with_actor_and_channel(self, org):
        field, value = self.sample_data.change
        mark = fresh_mark()
        made = Api(org.member_a).post(self.api_path, self.sample_data.data(mark))
        pk = made.json()["id"]
        edit = self.sample_data.form(mark) | {field: value, "version": made.json()["version"]}
        assert browser(org.member_a).post(self.rt.url("edit", pk), edit).status_code == 302
        assert Api(org.sales_head).delete(f"{self.api_path}/{pk}").status_code == 204

        rows = AuditEntry.objects.filter(object_type=self.rt.object_type, object_id=pk)
        assert [(row.action, row.actor_id, row.channel) for row in rows.order_by("at", "id")] == [
            (f"{self.rt.object_type}.created", org.member_a.pk, "api"),
            (f"{self.rt.object_type}.updated", org.member_a.pk, "ui"),
            (f"{self.rt.object_type}.deleted", org.sales_head.pk, "api"),
        ]
        updated = rows.get(action=f"{self.rt.object_type}.updated")
        assert updated.changes[field][1] == value

    def test_history_shows_the_audit_to_who_sees_the_record(self, org):
        record = self.make(org.member_a)
        field, value = self.sample_data.change
        self.rt.update(record, {field: value}, actor=org.member_a)
        history = Api(org.member_b).get(f"{self.api_path}/{record.pk}/history")
        assert history.status_code == 200
        assert [item["action"] for item in history.json()["items"]] == [
            f"{self.rt.object_type}.updated",
            f"{self.rt.object_type}.created",
        ]
        audit = Api(org.admin).get(f"/audit?object={self.rt.object_type}:{record.pk}")
        assert audit.status_code == 200 and audit.json()["count"] == 2


# -- the classes, and the types without one -----------------------------------------------------


def standard_tests_for(record_type: RecordType, *, sample: Sample | None = None) -> type:
    """A ``Test<Name>Standard`` class for ``record_type``, made at collection time: put it
    in a test module's namespace (``globals()[cls.__name__] = cls``) for pytest to collect."""
    name = "Test" + record_type.name.title().replace("_", "") + "Standard"
    return type(
        name,
        (StandardObjectTests,),
        {"record_type": record_type, "sample": sample, "__module__": __name__},
    )


def standard_test_classes() -> list[type]:
    """Every ``StandardObjectTests`` subclass with a type, after importing the modules that
    hold them (``tests/**/test_standard*.py``), so the answer does not depend on which
    test files this run collected."""
    root = Path(__file__).resolve().parents[1]
    for module_file in sorted(root.rglob("test_standard*.py")):
        parts = module_file.relative_to(root.parent).with_suffix("").parts
        importlib.import_module(".".join(parts))
    found, pending = [], list(StandardObjectTests.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(cls, "record_type", None) is not None:
            found.append(cls)
    return found


def types_without_standard_tests(record_types: list[RecordType]) -> list[str]:
    covered = {cls.record_type.object_type for cls in standard_test_classes()}
    return [rt.object_type for rt in record_types if rt.object_type not in covered]

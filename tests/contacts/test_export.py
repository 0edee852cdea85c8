import csv
import datetime
import io
import zipfile

import pytest
from django.db import connection
from django.http import FileResponse
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from kontor.accounts import services as accounts
from kontor.contacts import services
from kontor.contacts.models import Person
from kontor.core.access import SYSTEM, Action, Scope
from kontor.core.exports import neutralise
from tests.contacts.test_api import Api

PAYLOADS = ["=1+2", "+7 916", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def read_xlsx(response) -> list[list]:
    return [[c.value for c in row] for row in xlsx_cells(response)]


def xlsx_cells(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows())


@pytest.fixture
def people(org):
    acme = services.create_company({"name": "Acme"}, actor=org.sales_head)
    made = []
    for i, (owner, dept) in enumerate(
        [
            (org.member_a, org.dept.team1),
            (org.member_b, org.dept.team1),
            (org.member_c, org.dept.team2),
            (org.support_member, org.dept.support),
            (org.sales_head, org.dept.sales),
        ]
    ):
        made.append(
            services.create_person(
                {
                    "first_name": f"P{i}",
                    "last_name": owner.email,
                    "owner_id": owner.pk,
                    "department_id": dept.pk,
                    "company_id": acme.pk if i % 2 else None,
                    "tags": ["VIP"] if i % 2 else [],
                },
                actor=org.admin,
            )
        )
    return made


@pytest.mark.parametrize("who", ["sales_head", "admin", "superuser"])
@pytest.mark.parametrize("query", ["", "sort=-name", "tag=vip", "q=p1"])
def test_export_rows_equal_list_rows(org, people, who, query):
    api = Api(getattr(org, who))
    listed = [p["id"] for p in api.get(f"/people?limit=200&{query}").json()["items"]]
    rows = read_csv(api.get(f"/people/export?format=csv&{query}"))
    assert [int(r[0]) for r in rows[1:]] == listed
    assert rows[0][0] == "ID"
    xlsx = read_xlsx(api.get(f"/people/export?format=xlsx&{query}"))
    assert [r[0] for r in xlsx[1:]] == listed


def test_head_exports_only_their_subtree(org, people):
    rows = read_csv(Api(org.sales_head).get("/people/export"))
    owners = {r[3] for r in rows[1:]}
    assert owners == {
        "anna@example.com",
        "boris@example.com",
        "clara@example.com",
        "head@example.com",
    }


def test_user_without_export_permission_gets_403(org, people):
    response = Api(org.member_a).get("/people/export?format=csv")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert Api(org.member_a).get("/companies/export").status_code == 403


def test_unknown_format_is_a_field_error(org):
    response = Api(org.admin).get("/people/export?format=pdf")
    assert response.status_code == 422
    assert "format" in response.json()["errors"]


def test_formula_cells_are_text_in_xlsx_and_quoted_in_csv(org):
    for payload in PAYLOADS:
        services.create_person(
            {"first_name": payload, "last_name": payload, "notes": payload, "source": payload},
            actor=org.admin,
        )
    services.create_company({"name": "=cmd|' /C calc'!A0", "industry": "+x"}, actor=org.admin)
    api = Api(org.admin)
    for path in ("/people/export", "/companies/export"):
        response = api.get(f"{path}?format=xlsx")
        body = b"".join(response.streaming_content)
        sheet = zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet  # no formula anywhere in the file
        cells = [c for row in xlsx_cells(FileResponse(io.BytesIO(body)))[1:] for c in row]
        assert [c for c in cells if c.value is not None]
        assert not [c.value for c in cells if c.data_type == "f"]
        csv_cells = [v for row in read_csv(api.get(f"{path}?format=csv"))[1:] for v in row]
        assert not [v for v in csv_cells if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # XLSX keeps the exact text, without the quote CSV needs.
    xlsx_names = {row[1] for row in read_xlsx(api.get("/people/export?format=xlsx"))[1:]}
    assert xlsx_names == set(Person.objects.values_list("first_name", flat=True))
    assert "=1+2" in xlsx_names and '=HYPERLINK("http://x")' in xlsx_names
    csv_names = {row[1] for row in read_csv(api.get("/people/export?format=csv"))[1:]}
    assert "'=1+2" in csv_names


def test_neutralise_drops_control_characters_before_checking():
    assert neutralise("\x01=1") == "'=1"
    assert neutralise("plain") == "plain"
    assert neutralise(7) == 7
    assert neutralise(None) == ""


def test_company_export_hides_nothing_it_should_show(org):
    services.create_company({"name": "Acme", "industry": "Steel", "tags": ["A"]}, actor=org.admin)
    rows = read_csv(Api(org.admin).get("/companies/export"))
    assert rows[0][:3] == ["ID", "Name", "Legal name"]
    assert rows[1][1] == "Acme"
    assert rows[1][4] == "Steel"
    assert rows[1][9] == "A"


def test_export_scope_narrower_than_view_scope_cuts_the_rows(org, people, make_user):
    role = accounts.create_role(
        name="reader",
        grants=[
            ("contacts.person", Action.VIEW, Scope.ALL),
            ("contacts.person", Action.EXPORT, Scope.OWN),
        ],
        actor=SYSTEM,
    )
    reader = make_user("reader@example.com", department=org.dept.support, roles=[role.name])
    own = services.create_person(
        {"first_name": "Mine", "owner_id": reader.pk, "department_id": org.dept.support.pk},
        actor=org.admin,
    )
    api = Api(reader)
    listed = {p["id"] for p in api.get("/people?limit=200").json()["items"]}
    assert listed == {p.pk for p in people} | {own.pk}
    exported = [int(r[0]) for r in read_csv(api.get("/people/export"))[1:]]
    assert exported == [own.pk]


def test_export_costs_the_same_queries_for_3_or_30_rows(org):
    api = Api(org.admin)
    api.get("/people")

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            read_csv(api.get("/people/export"))
        return len(ctx.captured_queries)

    def make(n):
        for i in range(n):
            services.create_person(
                {
                    "first_name": f"P{i}",
                    "phones": [{"number": f"+7 916 000-00-{i:02d}"}],
                    "emails": [{"address": f"p{i}@example.com"}],
                    "tags": ["VIP"],
                },
                actor=org.admin,
            )

    make(3)
    few = cost()
    make(27)
    assert cost() == few


def test_xlsx_export_is_an_attachment_with_contact_points(org):
    services.create_person(
        {
            "first_name": "Ivan",
            "phones": [{"number": "8 916 123-45-67"}, {"number": "+49 30 1234567"}],
            "emails": [{"address": "ivan@example.com"}],
            "tags": ["b", "a"],
        },
        actor=org.admin,
    )
    response = Api(org.admin).get("/people/export?format=xlsx")
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    header, row = read_xlsx(response)
    cells = dict(zip(header, row, strict=True))
    assert cells["Phones"] == "+79161234567; +49301234567"
    assert cells["Phones as typed"] == "8 916 123-45-67; +49 30 1234567"
    assert cells["Emails"] == "ivan@example.com"
    assert cells["Tags"] == "a; b"


def test_xlsx_writes_dates_as_dates_and_phones_in_one_format_beside_the_typed_text(org):
    person = services.create_person(
        {
            "first_name": "Ivan",
            "birthday": "1980-04-01",
            "phones": [{"number": "8 (495) 123-45-67 доб. 105"}, {"number": "+7 916 123 45 67"}],
        },
        actor=org.admin,
    )
    api = Api(org.admin)

    header, row = xlsx_cells(api.get("/people/export?format=xlsx"))
    cells = dict(zip([c.value for c in header], row, strict=True))
    csv_header, csv_row = read_csv(api.get("/people/export?format=csv"))
    csv_cells = dict(zip(csv_header, csv_row, strict=True))

    assert cells["Birthday"].is_date and cells["Birthday"].number_format == "yyyy-mm-dd"
    assert cells["Birthday"].value == datetime.datetime(1980, 4, 1)
    # Excel keeps no time zone: the reader's local time (a day is a float: ms precision).
    created = timezone.localtime(person.created_at).replace(tzinfo=None)
    assert cells["Created"].is_date
    assert abs(cells["Created"].value - created) < datetime.timedelta(milliseconds=1)
    assert cells["Phones"].value == "+74951234567;ext=105; +79161234567"
    assert cells["Phones as typed"].value == "8 (495) 123-45-67 доб. 105; +7 916 123 45 67"
    assert cells["Phones"].data_type == "s"
    # CSV has no types: ISO dates, and the quote before a leading "+".
    assert csv_cells["Birthday"] == "1980-04-01"
    assert csv_cells["Created"] == person.created_at.isoformat()
    assert csv_cells["Phones"] == "'+74951234567;ext=105; +79161234567"

import pytest
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kontor.accounts import services as accounts
from kontor.accounts.models import ApiToken
from kontor.contacts import queries, services
from kontor.contacts.models import Company, Person
from kontor.core.errors import Conflict
from kontor.core.models import AuditEntry
from tests.utils.clients import Api


def person_of(user, **data):
    return services.create_person(
        {"first_name": "Pat", "last_name": user.email, **data}, actor=user
    )


def audit_of(obj):
    return list(AuditEntry.objects.for_object(obj).order_by("id"))


PROTECTED = [
    ("get", "/people"),
    ("post", "/people"),
    ("get", "/people/1"),
    ("patch", "/people/1"),
    ("delete", "/people/1"),
    ("post", "/people/duplicates"),
    ("get", "/people/lookup?phone=%2B79161234567"),
    ("get", "/people/export"),
    ("get", "/people/1/attachments"),
    ("post", "/people/1/attachments"),
    ("get", "/companies"),
    ("post", "/companies"),
    ("get", "/companies/1"),
    ("patch", "/companies/1"),
    ("delete", "/companies/1"),
    ("post", "/companies/duplicates"),
    ("get", "/companies/export"),
    ("get", "/companies/1/attachments"),
    ("get", "/search?q=abc"),
    ("get", "/audit"),
    ("get", "/attachments/1/download"),
    ("delete", "/attachments/1"),
]


@pytest.mark.parametrize("method,path", PROTECTED)
def test_anonymous_gets_401_json_on_every_endpoint(db, method, path):
    response = Api().send(method, path, {} if method in ("post", "patch") else None)
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication required."


def test_revoked_token_gets_401(org):
    api = Api(org.member_a)
    assert api.get("/people").status_code == 200
    token = ApiToken.objects.get(user=org.member_a)
    accounts.revoke_token(token, actor=org.member_a)
    assert api.get("/people").status_code == 401
    assert api.post("/people", {"first_name": "X"}).status_code == 401
    assert not Person.objects.exists()


def test_session_write_needs_the_csrf_token(org):
    browser = Client(enforce_csrf_checks=True)
    api = Api(client=browser)
    # Anonymous is 401 even for a write: the CSRF check guards live sessions only.
    assert api.post("/people", {"first_name": "Anon"}).status_code == 401
    browser.force_login(org.member_a)
    assert api.get("/people").status_code == 200
    refused = api.post("/people", {"first_name": "Forged"})
    assert refused.status_code == 403
    assert not Person.objects.exists()
    csrf = _get_new_csrf_string()
    browser.cookies["csrftoken"] = csrf
    accepted = api.post("/people", {"first_name": "Real"}, **{"X-CSRFToken": csrf})
    assert accepted.status_code == 201
    assert Person.objects.get().first_name == "Real"


# -- list, filter, sort, paginate ------------------------------------------------------------


def test_list_paginates_with_total_count(org):
    for i in range(5):
        person_of(org.member_a, first_name=f"P{i}", last_name=f"L{i}")
    body = Api(org.member_a).get("/people?limit=2&offset=2").json()
    assert (body["count"], body["count_capped"]) == (5, False)
    assert (body["limit"], body["offset"]) == (2, 2)
    assert [p["last_name"] for p in body["items"]] == ["L2", "L3"]


def test_totals_stop_counting_at_the_cap_and_say_so(org, monkeypatch):
    monkeypatch.setattr("kontor.core.pagination.COUNT_CAP", 3)
    for i in range(5):
        person_of(org.member_a, first_name=f"P{i}", last_name=f"L{i}")
    body = Api(org.member_a).get("/people?limit=2&offset=3").json()
    assert (body["count"], body["count_capped"]) == (3, True)
    # Rows past the cap are still served: the cap limits counting, not paging.
    assert [p["last_name"] for p in body["items"]] == ["L3", "L4"]
    exact = Api(org.member_a).get("/people?q=L4").json()
    assert (exact["count"], exact["count_capped"]) == (1, False)


def test_limit_above_the_maximum_is_a_field_error(org):
    response = Api(org.member_a).get("/people?limit=201")
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


def test_list_filters_and_sorts(org):
    acme = services.create_company({"name": "Acme"}, actor=org.member_a)
    ada = person_of(org.member_a, first_name="Ada", last_name="Zed", company_id=acme.pk)
    person_of(org.member_a, first_name="Bob", last_name="Young", tags=["VIP"])
    person_of(org.member_b, first_name="Cy", last_name="Xu")
    api = Api(org.member_a)

    def ids(query):
        response = api.get(f"/people?{query}")
        assert response.status_code == 200, response.content
        return [p["first_name"] for p in response.json()["items"]]

    assert ids("sort=name") == ["Cy", "Bob", "Ada"]
    assert ids("sort=-name") == ["Ada", "Bob", "Cy"]
    assert ids(f"company_id={acme.pk}") == ["Ada"]
    assert ids("tag=vip") == ["Bob"]
    assert ids(f"owner_id={org.member_b.pk}") == ["Cy"]
    assert ids("q=ada") == ["Ada"]
    assert ids(f"department_id={org.dept.support.pk}") == []
    assert ada.pk in [
        p["id"] for p in api.get(f"/people?department_id={org.dept.team1.pk}").json()["items"]
    ]


def test_unknown_sort_is_422_with_a_field_error(org):
    response = Api(org.member_a).get("/people?sort=password")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["sort"]


def test_company_list_filters_by_industry(org):
    services.create_company({"name": "Brick Co", "industry": "Building"}, actor=org.member_a)
    services.create_company({"name": "Bank Co", "industry": "Finance"}, actor=org.member_a)
    body = Api(org.member_a).get("/companies?industry=building&sort=-name").json()
    assert [c["name"] for c in body["items"]] == ["Brick Co"]
    assert Api(org.member_a).get("/companies?sort=birthday").status_code == 422


def test_list_of_30_costs_the_same_queries_as_3(org):
    company = services.create_company({"name": "Acme"}, actor=org.member_a)

    def make(n):
        for i in range(n):
            person_of(
                org.member_a,
                company_id=company.pk,
                phones=[{"number": f"+7 916 000-00-{i:02d}"}],
                emails=[{"address": f"p{i}@example.com"}],
                addresses=[{"city": "Berlin"}],
                family=[{"name": "Kid", "relation": "son"}],
                important_dates=[{"label": "Wedding", "date": "2001-05-05"}],
                tags=["VIP"],
            )

    api = Api(org.member_a)
    api.get("/people")  # token last-used stamp is written at most once a minute

    def queries_for_list():
        with CaptureQueriesContext(connection) as ctx:
            body = api.get("/people?limit=200").json()
        return len(ctx.captured_queries), body["count"]

    make(3)
    few, count = queries_for_list()
    assert count == 3
    make(27)
    many, count = queries_for_list()
    assert count == 30
    assert many == few


# -- get one, scope --------------------------------------------------------------------------


def test_get_one_returns_nested_data_owner_and_department(org):
    person = person_of(
        org.member_a,
        phones=[{"number": "8 (916) 123-45-67", "kind": "work"}],
        emails=[{"address": "Pat@Example.com"}],
        family=[{"name": "Kim", "relation": "daughter", "birthday": "2010-02-03"}],
        important_dates=[{"label": "Wedding", "date": "2005-06-07"}],
        tags=["VIP"],
    )
    response = Api(org.member_b).get(f"/people/{person.pk}")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["phones"] == [
        {
            "raw": "8 (916) 123-45-67",
            "e164": "+79161234567",
            "extension": "",
            "display": "+7 916 123-45-67",
            "kind": "work",
        }
    ]
    assert body["emails"] == [{"address": "Pat@Example.com", "kind": "work"}]
    assert body["family"] == [{"relation": "daughter", "name": "Kim", "birthday": "2010-02-03"}]
    assert body["important_dates"] == [{"label": "Wedding", "date": "2005-06-07"}]
    assert body["tags"] == ["VIP"]
    assert body["owner"] == {"id": org.member_a.pk, "name": "anna@example.com"}
    assert body["department"] == {"id": org.dept.team1.pk, "name": "Sales Team 1"}
    assert body["version"] == 1


def test_get_one_lists_come_in_the_detail_pages_order(org):
    person = person_of(
        org.member_a,
        phones=[{"number": "+7 916 000-00-02"}, {"number": "+7 916 000-00-01", "kind": "work"}],
        emails=[{"address": "b@example.com"}, {"address": "a@example.com"}],
        addresses=[{"city": "Oslo"}, {"city": "Bergen", "kind": "home"}],
        family=[{"name": "Zoe", "relation": "daughter"}, {"name": "Abe", "relation": "son"}],
        important_dates=[
            {"label": "Later", "date": "2010-01-01"},
            {"label": "Sooner", "date": "2001-01-01"},
        ],
        tags=["Zeta", "Alpha"],
    )
    body = Api(org.member_a).get(f"/people/{person.pk}").json()
    shown = queries.person(org.member_a, person.pk)  # what the detail page reads
    assert [p["raw"] for p in body["phones"]] == [p.raw for p in shown.phones.all()]
    assert [p["raw"] for p in body["phones"]] == ["+7 916 000-00-02", "+7 916 000-00-01"]
    assert [p["display"] for p in body["phones"]] == [p.display for p in shown.phones.all()]
    assert [e["address"] for e in body["emails"]] == ["b@example.com", "a@example.com"]
    assert [a["city"] for a in body["addresses"]] == ["Oslo", "Bergen"]
    assert [m["name"] for m in body["family"]] == ["Zoe", "Abe"]
    assert [d["label"] for d in body["important_dates"]] == ["Sooner", "Later"]
    assert body["tags"] == ["Alpha", "Zeta"]


def test_record_outside_scope_is_404_for_read_update_and_delete(org):
    person = person_of(org.member_a)
    outsider = Api(org.support_member)
    assert outsider.get(f"/people/{person.pk}").status_code == 404
    patched = outsider.patch(f"/people/{person.pk}", {"position": "Spy", "version": 1})
    assert patched.status_code == 404
    assert outsider.delete(f"/people/{person.pk}").status_code == 404
    assert Person.objects.get(pk=person.pk).position == ""
    assert [p["id"] for p in outsider.get("/people").json()["items"]] == []


def test_employer_outside_scope_is_not_shown(org):
    company = services.create_company(
        {"name": "Secret Holdings", "department_id": org.dept.sales.pk}, actor=org.sales_head
    )
    person = services.create_person(
        {
            "first_name": "Visible",
            "company_id": company.pk,
            "owner_id": org.member_a.pk,
            "department_id": org.dept.team1.pk,
        },
        actor=org.sales_head,
    )
    member = Api(org.member_b)
    assert member.get(f"/people/{person.pk}").json()["company"] is None
    assert member.get("/people").json()["items"][0]["company"] is None
    head = Api(org.sales_head).get(f"/people/{person.pk}").json()
    assert head["company"] == {"id": company.pk, "name": "Secret Holdings"}


# -- create ----------------------------------------------------------------------------------


def test_create_person_writes_the_row_and_one_api_audit_entry(org):
    response = Api(org.member_a).post(
        "/people",
        {
            "first_name": "Ivan",
            "last_name": "Petrov",
            "phones": [{"number": "+7 916 123-45-67", "kind": "mobile"}],
            "emails": [{"address": "ivan@example.com"}],
            "tags": ["VIP"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert (person.first_name, person.owner_id) == ("Ivan", org.member_a.pk)
    assert person.department_id == org.dept.team1.pk
    assert [p.e164 for p in person.phones.all()] == ["+79161234567"]
    assert body["phones"][0]["e164"] == "+79161234567"
    [entry] = audit_of(person)
    assert (entry.action, entry.channel) == ("contacts.person.created", "api")
    assert entry.actor_id == org.member_a.pk


def test_create_company(org):
    response = Api(org.member_a).post(
        "/companies", {"name": "Acme", "tax_id": "7701234567", "industry": "Building"}
    )
    assert response.status_code == 201, response.content
    company = Company.objects.get(pk=response.json()["id"])
    assert (company.name, company.tax_id) == ("Acme", "7701234567")
    assert [e.channel for e in audit_of(company)] == ["api"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"last_name": "No first name"}, "first_name"),
        ({"first_name": "X", "birthday": "yesterday"}, "birthday"),
        ({"first_name": "X", "phones": [{"number": "12"}]}, "phones.0.number"),
        (
            {"first_name": "X", "phones": [{"number": "+79161234567", "kind": "pager"}]},
            "phones.0.kind",
        ),
        ({"first_name": "X", "emails": [{"address": "not-an-email"}]}, "emails.0.address"),
        ({"first_name": "X", "version": 7}, "version"),
        ({"first_name": "X", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"first_name": "X", "company_id": 999999}, "company_id"),
        ({"first_name": "   "}, "first_name"),
    ],
)
def test_bad_input_is_422_with_field_errors(org, body, field):
    response = Api(org.member_a).post("/people", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert response.json()["detail"]
    assert not Person.objects.exists()


def test_member_cannot_create_a_record_for_someone_else(org):
    response = Api(org.member_a).post(
        "/people", {"first_name": "X", "owner_id": org.support_member.pk}
    )
    assert response.status_code == 403
    assert not Person.objects.exists()


# -- update, locking -------------------------------------------------------------------------


def test_update_changes_the_row_and_leaves_one_api_audit_entry(org):
    person = person_of(org.member_a)
    response = Api(org.member_a).patch(
        f"/people/{person.pk}",
        {"position": "Buyer", "phones": [{"number": "+49 30 1234567"}], "version": 1},
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    person.refresh_from_db()
    assert (person.position, person.version, person.last_name) == ("Buyer", 2, "anna@example.com")
    assert [p.e164 for p in person.phones.all()] == ["+49301234567"]
    created, updated = audit_of(person)
    assert (updated.action, updated.channel) == ("contacts.person.updated", "api")
    assert updated.changes["position"] == ["", "Buyer"]


def test_stale_version_is_409_and_nothing_changes(org):
    person = person_of(org.member_a)
    services.update_person(person, {"position": "First"}, actor=org.member_a)
    response = Api(org.member_a).patch(f"/people/{person.pk}", {"position": "Late", "version": 1})
    assert response.status_code == 409
    assert response.json()["detail"] == str(Conflict.default_message)
    person.refresh_from_db()
    assert (person.position, person.version) == ("First", 2)
    assert len(audit_of(person)) == 2


def test_if_match_header_carries_the_version(org):
    person = person_of(org.member_a)
    api = Api(org.member_a)
    stale = api.patch(f"/people/{person.pk}", {"position": "A"}, **{"If-Match": '"2"'})
    assert stale.status_code == 409
    ok = api.patch(f"/people/{person.pk}", {"position": "A"}, **{"If-Match": '"1"'})
    assert ok.status_code == 200
    assert Person.objects.get(pk=person.pk).position == "A"


def test_update_without_a_version_is_refused(org):
    person = person_of(org.member_a)
    response = Api(org.member_a).patch(f"/people/{person.pk}", {"position": "A"})
    assert response.status_code == 422
    assert "version" in response.json()["errors"]
    assert Person.objects.get(pk=person.pk).position == ""


def test_visible_but_not_editable_is_403(org):
    person = person_of(org.member_a)
    response = Api(org.member_b).patch(f"/people/{person.pk}", {"position": "X", "version": 1})
    assert response.status_code == 403
    assert Person.objects.get(pk=person.pk).position == ""


def test_member_cannot_move_their_record_out_of_scope(org):
    person = person_of(org.member_a)
    response = Api(org.member_a).patch(
        f"/people/{person.pk}",
        {"department_id": org.dept.support.pk, "owner_id": org.support_member.pk, "version": 1},
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert (person.department_id, person.owner_id) == (org.dept.team1.pk, org.member_a.pk)


def test_update_company_with_bad_website_is_a_field_error(org):
    company = services.create_company({"name": "Acme"}, actor=org.member_a)
    response = Api(org.member_a).patch(
        f"/companies/{company.pk}", {"website": "not a url", "version": 1}
    )
    assert response.status_code == 422
    assert "website" in response.json()["errors"]
    assert Company.objects.get(pk=company.pk).website == ""


# -- delete ----------------------------------------------------------------------------------


def test_delete_removes_the_row_and_audits_it(org):
    person = person_of(org.sales_head, department_id=org.dept.team1.pk)
    api = Api(org.sales_head)
    assert api.delete(f"/people/{person.pk}?version=5").status_code == 409
    assert api.delete(f"/people/{person.pk}").status_code == 204
    assert not Person.objects.filter(pk=person.pk).exists()
    deleted = AuditEntry.objects.filter(object_id=person.pk, action="contacts.person.deleted")
    assert [e.channel for e in deleted] == ["api"]


def test_member_without_delete_permission_gets_403(org):
    person = person_of(org.member_a)
    assert Api(org.member_a).delete(f"/people/{person.pk}").status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


# -- duplicates and phone lookup -------------------------------------------------------------


def test_duplicates_finds_same_email_phone_or_similar_name(org):
    acme = services.create_company({"name": "Acme"}, actor=org.member_a)
    by_email = person_of(org.member_a, emails=[{"address": "ivan@example.com"}])
    by_phone = person_of(org.member_a, phones=[{"number": "+7 916 123-45-67"}])
    by_name = person_of(org.member_a, first_name="Ivan", last_name="Petrov", company_id=acme.pk)
    person_of(org.support_member, emails=[{"address": "ivan@example.com"}])
    api = Api(org.member_a)

    def found(body):
        response = api.post("/people/duplicates", body)
        assert response.status_code == 200, response.content
        return {d["id"] for d in response.json()}

    # Support's look-alike is hidden: one entry without id says so (tests/contacts/test_services).
    assert found({"emails": [{"address": "IVAN@example.com"}]}) == {by_email.pk, None}
    assert found({"phones": [{"number": "8 916 1234567"}]}) == {by_phone.pk}
    assert found({"first_name": "Ivan", "last_name": "Petrova", "company_id": acme.pk}) == {
        by_name.pk
    }
    assert found({"first_name": "Nobody"}) == set()
    assert found({"emails": [{"address": "ivan@example.com"}], "exclude_id": by_email.pk}) == {None}


def test_company_duplicates_by_tax_id(org):
    acme = services.create_company({"name": "Acme", "tax_id": "7701"}, actor=org.member_a)
    response = Api(org.member_a).post(
        "/companies/duplicates", {"name": "ACME Ltd", "tax_id": "7701"}
    )
    assert response.json() == [{"id": acme.pk, "name": "Acme", "hidden": False}]


def test_phone_lookup_finds_people_and_companies_in_any_written_form(org):
    acme = services.create_company(
        {"name": "Acme", "phones": [{"number": "+7 (916) 123-45-67"}]}, actor=org.member_a
    )
    ivan = person_of(
        org.member_a, company_id=acme.pk, position="Buyer", phones=[{"number": "89161234567"}]
    )
    person_of(org.support_member, phones=[{"number": "+79161234567"}])
    api = Api(org.member_b)
    api.get("/people?limit=1")
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/people/lookup?phone=8%20916%20123%2045%2067")
    body = response.json()
    assert body["e164"] == "+79161234567"
    assert body["people"] == [
        {
            "id": ivan.pk,
            "name": ivan.full_name,
            "position": "Buyer",
            "company": {"id": acme.pk, "name": "Acme"},
        }
    ]
    assert body["companies"] == [{"id": acme.pk, "name": "Acme"}]
    # Token, grants, people, companies: the caller-ID card stays lean.
    assert len(ctx.captured_queries) <= 4
    outsider = Api(org.support_member).get("/people/lookup?phone=+79161234567").json()
    assert [p["id"] for p in outsider["people"]] != [ivan.pk]
    assert outsider["companies"] == []


def test_a_typed_extension_is_kept_shown_and_the_main_number_still_finds_the_record(org):
    api = Api(org.member_a)
    created = api.post(
        "/people",
        {
            "first_name": "Ivan",
            "phones": [{"number": "+7 495 123-45-67 доб. 105"}, {"number": "8 916 123 45 67 x12"}],
        },
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]

    phones = api.get(f"/people/{pk}", **{"accept-language": "ru"}).json()["phones"]
    assert [(p["e164"], p["extension"], p["display"]) for p in phones] == [
        ("+74951234567", "105", "+7 495 123-45-67 доб. 105"),
        ("+79161234567", "12", "+7 916 123-45-67 доб. 12"),
    ]
    english = api.get(f"/people/{pk}").json()["phones"]
    assert english[0]["display"] == "+7 495 123-45-67 ext. 105"
    assert english[0]["raw"] == "+7 495 123-45-67 доб. 105"
    lookup = api.get("/people/lookup?phone=84951234567").json()
    assert [p["id"] for p in lookup["people"]] == [pk]
    assert [p["id"] for p in api.get("/people?q=8 495 123-45-67").json()["items"]] == [pk]


def test_phone_lookup_of_garbage_finds_nothing(org):
    body = Api(org.member_a).get("/people/lookup?phone=hello").json()
    assert body == {"e164": None, "people": [], "companies": []}


@pytest.mark.parametrize(
    "field,value",
    [
        ("is_superuser", True),
        ("roles", ["admin"]),
        ("id", 999),
        ("created_at", "2000-01-01T00:00:00Z"),
        ("updated_at", "2000-01-01T00:00:00Z"),
        ("full_name", "Mallory"),
    ],
)
def test_fields_that_are_not_writable_are_refused(org, field, value):
    person = person_of(org.member_a)
    api = Api(org.member_a)
    response = api.patch(f"/people/{person.pk}", {"position": "X", "version": 1, field: value})
    assert response.status_code == 422
    assert field in response.json()["errors"]
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.position, fresh.version, fresh.pk) == ("", 1, person.pk)
    assert api.post("/companies", {"name": "Acme", field: value}).status_code == 422
    assert not Company.objects.exists()


@pytest.mark.parametrize("kind", ["people", "companies"])
def test_both_resources_hide_outside_scope_and_refuse_stale_writes(org, kind):
    if kind == "people":
        record = person_of(org.member_a)
    else:
        record = services.create_company({"name": "Acme"}, actor=org.member_a)
    model = type(record)
    assert Api(org.support_member).get(f"/{kind}/{record.pk}").status_code == 404
    owner = Api(org.member_a)
    assert owner.patch(f"/{kind}/{record.pk}", {"notes": "new", "version": 1}).status_code == 200
    stale = owner.patch(f"/{kind}/{record.pk}", {"notes": "lost", "version": 1})
    assert stale.status_code == 409
    weak_etag = owner.patch(f"/{kind}/{record.pk}", {"notes": "newer"}, **{"If-Match": 'W/"2"'})
    assert weak_etag.status_code == 200
    fresh = model.objects.get(pk=record.pk)
    assert (fresh.notes, fresh.version) == ("newer", 3)
    history = owner.get(f"/audit?object={model._meta.label_lower}:{record.pk}").json()
    assert [e["channel"] for e in history["items"]] == ["api", "api", "system"]

"""The people and company pages: scope, forms, conflicts, bulk actions, documents, query counts."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontor.contacts import queries, services
from kontor.contacts.models import Company, Person
from kontor.core import files, types
from kontor.core.models import Attachment, AuditEntry
from kontor.core.types import ListFilters


def person_of(user, **data):
    return services.create_person({"first_name": "Ivan", **data}, actor=user)


def logged_in(client, user):
    client.force_login(user)
    return client


def person_form(**fields):
    base = {
        "first_name": "Olga",
        "last_name": "Petrova",
        "phones-0-kind": "mobile",
        "phones-0-number": "+7 916 123-45-67",
        "emails-0-kind": "work",
        "emails-0-address": "olga@example.com",
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("web:home", []),
        ("web:search", []),
        ("contacts:person_list", []),
        ("contacts:company_list", []),
        ("contacts:person_create", []),
        ("contacts:person_detail", [1]),
        ("contacts:person_edit", [1]),
        ("web:attachment_download", [1]),
    ],
)
def test_anonymous_is_sent_to_login_with_next(client, db, url_name, args):
    url = reverse(url_name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_record_outside_scope_is_404_for_detail_edit_delete_and_download(client, org):
    person = person_of(org.member_a)
    attachment = files.add_attachment(
        person, SimpleUploadedFile("contract.pdf", b"%PDF-1.4"), actor=org.member_a
    )
    logged_in(client, org.member_c)  # Sales Team 2: cannot see Team 1's records
    for url in (
        reverse("contacts:person_detail", args=[person.pk]),
        reverse("contacts:person_tab", args=[person.pk, "history"]),
        reverse("contacts:person_edit", args=[person.pk]),
        reverse("contacts:person_delete", args=[person.pk]),
        reverse("web:attachment_download", args=[attachment.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Page not found" in response.content
    assert client.post(reverse("contacts:person_delete", args=[person.pk])).status_code == 404
    assert (
        client.post(reverse("contacts:person_edit", args=[person.pk]), person_form()).status_code
        == 404
    )
    assert client.post(reverse("web:attachment_delete", args=[attachment.pk])).status_code == 404
    person.refresh_from_db()
    assert person.first_name == "Ivan"
    assert Attachment.objects.filter(pk=attachment.pk).exists()


def test_create_via_form_writes_person_and_one_ui_audit_entry(client, org):
    logged_in(client, org.member_a)
    response = client.post(reverse("contacts:person_create"), person_form())
    person = Person.objects.get(last_name="Petrova")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:person_detail", args=[person.pk])
    assert person.owner == org.member_a
    assert person.department == org.dept.team1
    assert [p.e164 for p in person.phones.all()] == ["+79161234567"]
    entries = list(AuditEntry.objects.for_object(person))
    assert len(entries) == 1
    assert entries[0].channel == "ui"
    assert entries[0].action == "contacts.person.created"
    assert entries[0].actor == org.member_a


def test_invalid_phone_shows_the_inline_message_and_keeps_the_input(client, org):
    logged_in(client, org.member_a)
    response = client.post(
        reverse("contacts:person_create"),
        person_form(**{"phones-0-number": "12", "position": "Buyer"}),
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "is not a valid phone number" in html
    assert 'id="err_phones-0-number"' in html
    assert 'value="12"' in html
    assert 'value="Buyer"' in html
    assert 'value="olga@example.com"' in html
    assert not Person.objects.filter(last_name="Petrova").exists()


def test_rows_beyond_the_first_keep_their_messages_after_empty_rows_are_dropped(client, org):
    logged_in(client, org.member_a)
    response = client.post(
        reverse("contacts:person_create"),
        person_form(
            **{"phones-3-number": "", "phones-7-number": "abc-12", "phones-7-kind": "work"}
        ),
    )
    html = response.content.decode()
    assert response.status_code == 422
    # The bad number is the second row the service saw: index 1, shown as row 1.
    assert re.search(r'name="phones-1-number"\s+type="tel" value="abc-12"', html)
    assert 'id="err_phones-1-number"' in html


def test_likely_duplicate_is_shown_before_saving_and_save_anyway_saves(client, org):
    existing = person_of(org.member_a, phones=[{"number": "8 (916) 123-45-67"}])
    logged_in(client, org.member_b)
    response = client.post(reverse("contacts:person_create"), person_form())
    assert response.status_code == 200
    assert b"This may already be in Kontor" in response.content
    assert reverse("contacts:person_detail", args=[existing.pk]).encode() in response.content
    assert not Person.objects.filter(last_name="Petrova").exists()

    response = client.post(reverse("contacts:person_create"), person_form(save_anyway="1"))
    assert response.status_code == 302
    assert Person.objects.filter(last_name="Petrova").count() == 1


def test_edit_saves_with_the_current_version(client, org):
    person = person_of(org.member_a, phones=[{"number": "+7 916 000-00-01"}])
    logged_in(client, org.member_a)
    form = client.get(reverse("contacts:person_edit", args=[person.pk]))
    assert f'name="version" value="{person.version}"'.encode() in form.content
    assert b'value="+7 916 000-00-01"' in form.content
    response = client.post(
        reverse("contacts:person_edit", args=[person.pk]),
        person_form(first_name="Ivan", last_name="Sidorov", version=str(person.version)),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.last_name == "Sidorov"
    assert person.version == 2
    entry = AuditEntry.objects.for_object(person).first()
    assert entry.action == "contacts.person.updated"
    assert entry.changes["last_name"] == ["", "Sidorov"]


def test_an_extension_typed_in_the_form_is_shown_dialled_and_kept_on_edit(client, org):
    logged_in(client, org.member_a)
    client.post(
        reverse("contacts:person_create"),
        person_form(**{"phones-0-number": "+7 495 123-45-67 доб. 105"}),
    )
    person = Person.objects.get(last_name="Petrova")

    detail = client.get(reverse("contacts:person_detail", args=[person.pk])).content.decode()
    listed = client.get(reverse("contacts:person_list")).content.decode()
    form = client.get(reverse("contacts:person_edit", args=[person.pk])).content.decode()

    link = '<a href="tel:+74951234567;ext=105" class="nowrap">+7 495 123-45-67 ext. 105</a>'
    assert link in detail
    assert 'href="tel:+74951234567;ext=105">+7 495 123-45-67 ext. 105</a>' in listed
    assert 'value="+7 495 123-45-67 доб. 105"' in form
    client.post(
        reverse("contacts:person_edit", args=[person.pk]),
        person_form(
            first_name="Ivan",
            version=str(person.version),
            **{"phones-0-number": "+7 495 123-45-67 доб. 105"},
        ),
    )
    assert list(person.phones.values_list("e164", "extension")) == [("+74951234567", "105")]


def test_stale_edit_shows_the_conflict_keeps_input_and_does_not_overwrite(client, org):
    person = person_of(org.member_a)
    stale_version = person.version
    services.update_person(person, {"last_name": "Theirs"}, actor=org.sales_head)
    logged_in(client, org.member_a)
    response = client.post(
        reverse("contacts:person_edit", args=[person.pk]),
        person_form(first_name="Ivan", last_name="Mine", version=str(stale_version)),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this record" in html
    assert 'value="Mine"' in html
    person.refresh_from_db()
    assert person.last_name == "Theirs"


def test_member_cannot_edit_a_colleagues_record_but_sees_it(client, org):
    person = person_of(org.member_a)
    logged_in(client, org.member_b)  # member: view department, edit own
    detail = client.get(reverse("contacts:person_detail", args=[person.pk]))
    assert detail.status_code == 200
    assert reverse("contacts:person_edit", args=[person.pk]).encode() not in detail.content
    response = client.post(
        reverse("contacts:person_edit", args=[person.pk]), person_form(version="1")
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.last_name == ""


def test_detail_shows_phones_internationally_with_tel_links_and_history(client, org):
    person = person_of(
        org.member_a, phones=[{"number": "8 916 123 45 67"}], emails=[{"address": "i@example.com"}]
    )
    services.update_person(person, {"position": "Director"}, actor=org.member_a)
    logged_in(client, org.member_a)
    html = client.get(reverse("contacts:person_detail", args=[person.pk])).content.decode()
    assert '<a href="tel:+79161234567" class="nowrap">+7 916 123-45-67</a>' in html
    assert 'href="mailto:i@example.com"' in html
    history = client.get(reverse("contacts:person_tab", args=[person.pk, "history"]))
    text = history.content.decode()
    assert "anna@example.com" in text
    assert "<ins>Director</ins>" in text
    assert text.count('class="timeline-item"') == 2


def test_htmx_tab_request_gets_only_the_tab(client, org):
    person = person_of(org.member_a)
    logged_in(client, org.member_a)
    response = client.get(
        reverse("contacts:person_tab", args=[person.pk, "history"]),
        headers={"HX-Request": "true", "HX-Target": "tab-panel"},
    )
    assert b"timeline" in response.content
    assert b"<html" not in response.content


def test_delete_via_the_confirmation_page(client, org):
    person = person_of(org.member_a)
    logged_in(client, org.sales_head)
    response = client.post(
        reverse("contacts:person_delete", args=[person.pk]), {"version": str(person.version)}
    )
    assert response.status_code == 302
    assert not Person.objects.filter(pk=person.pk).exists()
    assert AuditEntry.objects.filter(action="contacts.person.deleted", object_id=person.pk).exists()


def test_deleting_a_company_says_its_people_stay_and_keeps_them(client, org):
    company = services.create_company({"name": "Gone Ltd"}, actor=org.member_a)
    person = person_of(org.member_a, company_id=company.pk)
    logged_in(client, org.sales_head)
    url = reverse("contacts:company_delete", args=[company.pk])

    page = client.get(url).content.decode()
    assert "People: 1 will be kept without “company”" in page
    person_page = client.get(reverse("contacts:person_delete", args=[person.pk])).content.decode()
    assert "without company" not in person_page
    response = client.post(url, {"version": str(company.version)})

    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.company_id, person.company_name) == (None, "")


def test_documents_upload_download_and_delete(client, org, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    person = person_of(org.member_a)
    logged_in(client, org.member_a)
    response = client.post(
        reverse("contacts:person_documents", args=[person.pk]),
        {"file": SimpleUploadedFile("offer.txt", b"price list")},
    )
    assert response.status_code == 302
    attachment = files.attachments_of(person).get()
    assert attachment.name == "offer.txt"
    page = client.get(reverse("contacts:person_tab", args=[person.pk, "documents"]))
    assert reverse("web:attachment_download", args=[attachment.pk]).encode() in page.content
    download = client.get(reverse("web:attachment_download", args=[attachment.pk]))
    assert b"".join(download.streaming_content) == b"price list"
    assert "offer.txt" in download["Content-Disposition"]
    client.post(reverse("web:attachment_delete", args=[attachment.pk]))
    assert not files.attachments_of(person).exists()


def test_list_filters_sorts_and_counts(client, org):
    person_of(org.member_a, last_name="Alpha", tags=["VIP"])
    person_of(org.member_a, last_name="Beta")
    person_of(org.member_c, last_name="Hidden")  # another team: never listed for member_a
    logged_in(client, org.member_a)
    html = client.get(reverse("contacts:person_list"), {"sort": "-name"}).content.decode()
    assert html.index("Ivan Beta") < html.index("Ivan Alpha")
    assert "Hidden" not in html
    assert "1–2 of 2" in html
    tagged = client.get(reverse("contacts:person_list"), {"tag": "vip"}).content.decode()
    assert "Ivan Alpha" in tagged and "Ivan Beta" not in tagged


def test_list_total_stops_at_the_cap_and_says_more_than(client, org, monkeypatch):
    monkeypatch.setattr("kontor.core.pagination.COUNT_CAP", 2)
    monkeypatch.setattr("kontor.web.records.PAGE_SIZE", 2)
    for name in ("Alpha", "Beta", "Gamma"):
        person_of(org.member_a, last_name=name)
    url = reverse("contacts:person_list")
    html = logged_in(client, org.member_a).get(url).content.decode()
    assert "1–2 of …" in html and 'rel="next"' not in html  # no pages past the cap
    total = client.get(url, {"total": "1"}).content.decode()
    assert "1–2 of more than 2" in total
    exact = client.get(url, {"q": "Gamma"}).content.decode()
    assert "1–1 of 1" in exact and "more than" not in exact


def test_a_full_page_shows_its_rows_before_the_total(client, org, monkeypatch):
    monkeypatch.setattr("kontor.web.records.PAGE_SIZE", 2)
    for name in ("Alpha", "Beta", "Gamma"):
        person_of(org.member_a, last_name=name)
    url = reverse("contacts:person_list")
    first = logged_in(client, org.member_a).get(url, {"sort": "name"}).content.decode()
    assert "Ivan Alpha" in first and "Ivan Beta" in first and "Ivan Gamma" not in first
    assert "1–2 of …" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert "total=1" in first  # the pager asks for the total once the rows are shown
    total = client.get(url, {"sort": "name", "total": "1"}).content.decode()
    assert total.strip().endswith("1–2 of 3</span>")
    last = client.get(url, {"sort": "name", "page": "2"}).content.decode()
    assert "Ivan Gamma" in last and "3–3 of 3" in last and 'rel="next"' not in last
    past_the_end = client.get(url, {"sort": "name", "page": "9"}).content.decode()
    assert "Ivan Gamma" in past_the_end and "3–3 of 3" in past_the_end
    junk = client.get(url, {"sort": "name", "page": "x"}).content.decode()
    assert "Ivan Alpha" in junk


def test_export_links_carry_the_list_filters(client, org):
    logged_in(client, org.sales_head)
    html = client.get(reverse("contacts:person_list"), {"tag": "vip", "page": "2"}).content
    assert b'href="/api/v1/people/export?format=csv&amp;tag=vip"' in html
    assert b'href="/api/v1/people/export?format=xlsx&amp;tag=vip"' in html


def test_htmx_list_request_gets_only_the_results(client, org):
    person_of(org.member_a, last_name="Alpha")
    logged_in(client, org.member_a)
    response = client.get(
        reverse("contacts:person_list"),
        {"q": "alpha"},
        headers={"HX-Request": "true", "HX-Target": "list-results"},
    )
    assert b"Ivan Alpha" in response.content
    assert b"<html" not in response.content


def test_list_hides_buttons_the_user_may_not_use(client, org):
    person_of(org.member_a)
    logged_in(client, org.nobody)
    html = client.get(reverse("contacts:person_list")).content.decode()
    assert reverse("contacts:person_create") not in html
    assert "data-bulk-bar" not in html
    assert "/api/v1/people/export" not in html


def test_list_of_30_rows_costs_the_same_queries_as_3(client, org):
    company = services.create_company({"name": "Acme"}, actor=org.member_a)

    def make(n):
        for i in range(n):
            person_of(
                org.member_a,
                last_name=f"N{i:03}",
                company_id=company.pk,
                phones=[{"number": f"+7 916 000-00-{i:02}"}],
                emails=[{"address": f"p{i}@example.com"}],
                tags=["VIP", f"t{i}"],
            )

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("contacts:person_list"))
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode().count('name="ids"')

    logged_in(client, org.member_a)
    make(3)
    few, rows = count_queries()
    assert rows == 3
    make(27)
    many, rows = count_queries()
    assert rows == 30
    assert many == few


def test_list_rows_read_linked_records_by_their_names_alone(org):
    company = services.create_company({"name": "Acme", "notes": "Long notes"}, actor=org.member_a)
    person_of(org.member_a, last_name="Zorin", company_id=company.pk)
    people = types.by_model(Person)
    row = people.list_page_query(org.member_a, ListFilters(), people.columns).get(last_name="Zorin")
    assert {"password", "last_login", "date_joined"} <= row.owner.get_deferred_fields()
    assert {"notes", "custom", "created_at"} <= row.company.get_deferred_fields()
    assert "custom" in row.get_deferred_fields()  # no custom column shown
    with CaptureQueriesContext(connection) as ctx:
        shown = (str(row), str(row.visible_company), str(row.owner), str(row.department))
    assert not ctx.captured_queries
    assert shown == ("Ivan Zorin", "Acme", str(org.member_a), "Sales Team 1")


def test_one_person_reads_its_lists_as_a_prefetch_would_with_one_query_each(org):
    def values(lists):
        return {
            name: [
                {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}
                for row in rows
            ]
            for name, rows in lists.items()
        }

    member = org.member_a
    person = person_of(
        member,
        phones=[{"number": "+7 916 000-00-02"}, {"number": "+7 916 000-00-01", "kind": "work"}],
        emails=[{"address": "b@example.com"}, {"address": "a@example.com"}],
        addresses=[{"city": "Tver", "country": "ru"}, {"city": "Kazan", "country": "ru"}],
        family=[{"relation": "son", "name": "Ilya", "birthday": "2010-02-03"}],
        important_dates=[
            {"label": "b", "date": "2005-06-07"},
            {"label": "a", "date": "2001-01-01"},
        ],
        tags=["zeta", "alpha"],
    )
    person_of(member, phones=[{"number": "+7 916 000-00-09"}], tags=["other"])
    names = queries.PERSON_LISTS
    prefetched = Person.objects.prefetch_related(*names).get(pk=person.pk)
    with CaptureQueriesContext(connection) as ctx:
        found = queries.person(member, person.pk)
        lists = {name: list(getattr(found, name).all()) for name in names}
        parents = {phone.person for phone in lists["phones"]}
    assert len(ctx.captured_queries) == 1 + len(names)
    assert values(lists) == values({name: getattr(prefetched, name).all() for name in names})
    assert [t.name for t in lists["tags"]] == ["alpha", "zeta"] and parents == {found}
    assert not found.phones.filter(e164="+79160000009").exists()  # another person's stays out


def test_bulk_add_tag_assign_owner_and_delete(client, org):
    a = person_of(org.member_a, last_name="A")
    b = person_of(org.member_a, last_name="B")
    other = person_of(org.member_c, last_name="Other")
    logged_in(client, org.sales_head)
    url = reverse("contacts:person_bulk")
    client.post(url, {"ids": [a.pk, b.pk], "action": "tag", "tag": "Priority", "next": "/people/"})
    assert sorted(t.name for t in a.tags.all()) == ["Priority"]
    assert [t.name for t in b.tags.all()] == ["Priority"]
    client.post(url, {"ids": [a.pk], "action": "owner", "owner_id": org.member_b.pk})
    a.refresh_from_db()
    assert a.owner == org.member_b
    logged_in(client, org.member_a)  # members may not delete: nothing is deleted
    response = client.post(url, {"ids": [b.pk], "action": "delete"}, follow=True)
    assert b"You do not have permission" in response.content
    assert Person.objects.filter(pk=b.pk).exists()
    logged_in(client, org.sales_head)
    response = client.post(
        url, {"ids": [b.pk, other.pk], "action": "delete", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("contacts:person_list")
    assert not Person.objects.filter(pk=b.pk).exists()
    assert not Person.objects.filter(pk=other.pk).exists()


def test_company_autocomplete_offers_only_visible_companies(client, org):
    services.create_company({"name": "Stroy Mir"}, actor=org.member_a)
    services.create_company({"name": "Stroy Dom"}, actor=org.member_c)
    logged_in(client, org.member_a)
    html = client.get(reverse("contacts:company_autocomplete"), {"company_label": "stroy"}).content
    assert b"Stroy Mir" in html
    assert b"Stroy Dom" not in html


def test_company_pages_create_and_show_their_people(client, org):
    logged_in(client, org.member_a)
    response = client.post(
        reverse("contacts:company_create"),
        {"name": "Beton LLC", "industry": "Concrete", "phones-0-number": "+7 495 111-22-33"},
    )
    company = Company.objects.get(name="Beton LLC")
    assert response["Location"] == reverse("contacts:company_detail", args=[company.pk])
    person_of(org.member_a, last_name="Worker", company_id=company.pk)
    related = client.get(reverse("contacts:company_tab", args=[company.pk, "related"]))
    assert b"Ivan Worker" in related.content
    listing = client.get(reverse("contacts:company_list"), {"industry": "concrete"})
    assert b"Beton LLC" in listing.content


def test_department_select_is_the_visible_tree_with_siblings_by_name(client, org):
    options = re.compile(r'<option value="(\d+)"[^>]*>([^<]*)</option>')

    def departments_offered(user):
        page = logged_in(client, user).get(reverse("contacts:person_create")).content.decode()
        select = page[page.index('name="department_id"') :]
        select = select[: select.index("</select>")]
        return [label for _pk, label in options.findall(select)]

    indent = "\u2003"
    assert departments_offered(org.admin) == [
        "Company",
        f"{indent}Sales",
        f"{indent * 2}Sales Team 1",
        f"{indent * 2}Sales Team 2",
        f"{indent}Support",
    ]
    # A head places records only within their subtree, so only that is offered.
    assert departments_offered(org.sales_head) == [
        "Sales",
        f"{indent}Sales Team 1",
        f"{indent}Sales Team 2",
    ]

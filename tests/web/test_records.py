"""The generic record pages (kontor.web.records) on behaviour no single type owns."""

from django.urls import reverse

from kontor.contacts import services as contacts
from kontor.contacts.models import Phone
from kontor.web.records import delete_effects


def test_the_list_shows_the_columns_chosen_and_remembers_them(client, org):
    contacts.create_person(
        {"first_name": "Ivan", "phones": [{"number": "+7 916 123-45-67"}]}, actor=org.member_a
    )
    client.force_login(org.member_a)
    url = reverse("contacts:person_list")
    assert 'data-label="Phone"' in client.get(url).content.decode()

    chosen = client.get(url, {"cols": ["", "company", "owner"]}).content.decode()
    assert 'data-label="Phone"' not in chosen and 'data-label="Owner"' in chosen
    # The title column cannot be hidden; the choice stays for the next visit.
    assert "Ivan" in chosen
    again = client.get(url).content.decode()
    assert 'data-label="Phone"' not in again and 'data-label="Company"' in again
    # Everything unchecked leaves the title alone.
    bare = client.get(url, {"cols": [""]}).content.decode()
    assert "Ivan" in bare and 'data-label="Owner"' not in bare


def test_the_delete_preview_counts_what_the_database_will_delete_or_unlink(org):
    company = contacts.create_company(
        {"name": "Acme", "phones": [{"number": "+7 495 123-45-67"}]}, actor=org.admin
    )
    for name in ("Ivan", "Olga"):
        contacts.create_person({"first_name": name, "company_id": company.pk}, actor=org.admin)

    effects = delete_effects(company)

    assert "Phones: 1 will be deleted" in effects
    assert "People: 2 will be kept without “company”" in effects
    assert Phone.objects.filter(company=company).count() == 1  # a preview deletes nothing


def test_sortable_columns_link_their_sort_both_ways(client, org):
    contacts.create_person({"first_name": "Ivan"}, actor=org.admin)
    client.force_login(org.admin)
    url = reverse("contacts:person_list")
    page = client.get(url).content.decode()
    assert "?sort=-name" in page and "?sort=company" in page  # name is the current sort
    descending = client.get(url, {"sort": "-name"}).content.decode()
    assert 'aria-sort="descending"' in descending and "?sort=name" in descending

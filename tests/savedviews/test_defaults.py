"""Default views (a user's own, a role's), views kept in the main menu, and the
administrators' Settings → Views page."""

import re
from html import unescape

import pytest
from django.urls import reverse

from kontor.core.errors import PermissionDenied, ValidationFailed
from kontor.core.models import AuditEntry
from kontor.savedviews import services
from kontor.savedviews.models import DefaultView, PinnedView
from tests.savedviews.test_views import PEOPLE, make

LIST = "/people/"


def pinned(client) -> list[tuple[str, str]]:
    """(address, name) of the views in the main menu of a page."""
    html = client.get(reverse("web:home")).content.decode()
    found = re.findall(
        r'<a class="nav-view" href="([^"]*)" data-testid="pinned-view">.*?</span>([^<]*)</a>', html
    )
    return [(unescape(url), name) for url, name in found]


def member_role(org):
    return org.member_a.roles.get(name="member")


def test_a_bare_list_address_opens_the_users_own_default_view(client, org):
    gold = make(org.member_a, query={"q": "gold"})
    client.force_login(org.member_a)
    assert client.get(LIST).status_code == 200  # no default yet
    services.set_own_default(org.member_a, gold, True)
    answer = client.get(LIST)
    assert answer.status_code == 302 and answer.url == LIST + "?q=gold"
    assert client.get(LIST + "?view=all").status_code == 200  # "All records"
    assert client.get(LIST, headers={"HX-Request": "true"}).status_code == 200
    assert client.get(LIST + "?q=x").status_code == 200  # an address with a query is kept
    services.set_own_default(org.member_a, gold, False)
    assert client.get(LIST).status_code == 200


def test_a_default_view_without_a_query_does_not_redirect_forever(client, org):
    plain = make(org.member_a, name="Plain")
    services.set_own_default(org.member_a, plain, True)
    client.force_login(org.member_a)
    assert client.get(LIST).status_code == 200


def test_a_roles_default_applies_to_its_members_and_the_own_default_comes_first(org):
    everyone = make(org.admin, name="Everyone's", query={"q": "a"}, sharing="everyone")
    services.set_role_default(everyone, member_role(org).pk, actor=org.admin)
    assert services.default_view(org.member_a, PEOPLE) == everyone
    assert services.default_view(org.sales_head, PEOPLE) is None  # not a member
    own = make(org.member_a, name="Own", query={"q": "b"})
    services.set_own_default(org.member_a, own, True)
    assert services.default_view(org.member_a, PEOPLE) == own
    assert services.default_view(org.member_b, PEOPLE) == everyone
    # Made personal again by its owner: the members no longer see it, so it is passed over.
    services.update(everyone, {"sharing": "personal"}, actor=org.admin)
    assert services.default_view(org.member_b, PEOPLE) is None


def test_a_roles_default_needs_an_administrator_and_a_view_shared_with_everyone(org):
    personal = make(org.admin, name="Mine")
    with pytest.raises(ValidationFailed) as refused:
        services.set_role_default(personal, member_role(org).pk, actor=org.admin)
    assert "view_id" in refused.value.errors
    everyone = make(org.admin, name="All", sharing="everyone")
    with pytest.raises(ValidationFailed) as refused:
        services.set_role_default(everyone, 999_999, actor=org.admin)
    assert "role_id" in refused.value.errors
    with pytest.raises(PermissionDenied):
        services.set_role_default(everyone, member_role(org).pk, actor=org.sales_head)
    default = services.set_role_default(everyone, member_role(org).pk, actor=org.admin)
    other = make(org.admin, name="Other", sharing="everyone")
    assert services.set_role_default(other, member_role(org).pk, actor=org.admin).pk == default.pk
    actions = list(
        AuditEntry.objects.filter(action__startswith="savedviews.defaultview")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["savedviews.defaultview.created", "savedviews.defaultview.updated"]
    services.remove_role_default(default.pk, actor=org.admin)
    assert not DefaultView.objects.exists()
    assert AuditEntry.objects.filter(action="savedviews.defaultview.deleted").count() == 1


def test_views_kept_in_the_main_menu(client, org):
    mine = make(org.member_a, name="Gold clients", query={"q": "gold"})
    shared = make(org.admin, name="Company wide", sharing="everyone")
    client.force_login(org.member_a)
    assert pinned(client) == []
    for view in (mine, shared):
        answer = client.post(reverse("savedviews:preference", args=[view.pk]), {"action": "pin_on"})
        assert answer.status_code == 302
    assert pinned(client) == [("/people/?q=gold", "Gold clients"), ("/people/", "Company wide")]
    client.post(reverse("savedviews:preference", args=[mine.pk]), {"action": "pin_off"})
    assert pinned(client) == [("/people/", "Company wide")]
    # Unshared: a view the user no longer sees leaves their menu.
    services.update(shared, {"sharing": "personal"}, actor=org.admin)
    assert services.pinned_views(org.member_a) == []
    assert (
        client.post(
            reverse("savedviews:preference", args=[mine.pk]), {"action": "nope"}
        ).status_code
        == 404
    )


def test_at_most_twenty_pins(org):
    views = [make(org.member_a, name=f"View {n}") for n in range(services.PINS_LIMIT + 1)]
    for view in views[:-1]:
        services.set_pinned(org.member_a, view, True)
    with pytest.raises(ValidationFailed):
        services.set_pinned(org.member_a, views[-1], True)
    services.set_pinned(org.member_a, views[0], True)  # already kept: no error, no twin
    assert PinnedView.objects.filter(user=org.member_a).count() == services.PINS_LIMIT


def test_the_views_menu_sets_the_default_and_offers_all_records(client, org):
    gold = make(org.member_a, query={"q": "gold"})
    client.force_login(org.member_a)
    page = client.get(LIST + "?view=all").content.decode()
    assert 'data-testid="all-records"' in page and "Open the list in this view" in page
    client.post(reverse("savedviews:preference", args=[gold.pk]), {"action": "default_on"})
    assert DefaultView.objects.get(user=org.member_a).view == gold
    page = client.get(LIST + "?q=gold").content.decode()
    assert "Stop opening by default" in page


def test_settings_views_page_is_for_administrators_of_views(client, org):
    own = make(org.member_a, name="Anna's view")
    everyone = make(org.admin, name="Company wide", sharing="everyone")
    page = reverse("savedviews:views_admin")
    client.force_login(org.sales_head)
    assert client.get(page).status_code == 404
    post = client.post(reverse("savedviews:views_admin_delete", args=[own.pk]))
    assert post.status_code == 404
    client.force_login(org.admin)
    html = client.get(page).content.decode()
    assert "Anna&#x27;s view" in html and "Company wide" in html
    assert "Anna" not in client.get(page + "?type=contacts.company").content.decode()
    answer = client.post(
        reverse("savedviews:views_default_set"),
        {"role_id": member_role(org).pk, "view_id": everyone.pk},
    )
    assert answer.status_code == 302
    default = DefaultView.objects.get(role=member_role(org))
    assert default.view == everyone
    assert 'data-testid="role-defaults"' in client.get(page).content.decode()
    client.post(reverse("savedviews:views_default_set"), {"role_id": "", "view_id": own.pk})
    assert DefaultView.objects.count() == 1  # a personal view is refused
    client.post(reverse("savedviews:views_default_remove", args=[default.pk]))
    assert not DefaultView.objects.exists()
    client.post(reverse("savedviews:views_admin_delete", args=[own.pk]))
    assert not own.__class__.objects.filter(pk=own.pk).exists()


def test_api_preferences_pins_and_role_defaults(client, org):
    gold = make(org.member_a, query={"q": "gold"})
    everyone = make(org.admin, name="Company wide", query={"q": "c"}, sharing="everyone")
    client.force_login(org.member_a)
    prefs = client.get("/api/v1/views/preferences?type=people").json()
    assert prefs == {"default_view": None, "pinned": []}
    put = client.put(
        f"/api/v1/views/{gold.pk}/default", {"on": True}, content_type="application/json"
    )
    assert put.json()["default_view"]["id"] == gold.pk
    put = client.put(
        f"/api/v1/views/{everyone.pk}/pin", {"on": True}, content_type="application/json"
    )
    assert [v["name"] for v in put.json()["pinned"]] == ["Company wide"]
    assert client.get("/api/v1/views/role-defaults").status_code == 403
    client.force_login(org.member_b)  # another's personal view does not exist for them
    for path in (f"/api/v1/views/{gold.pk}/pin", f"/api/v1/views/{gold.pk}/default"):
        assert client.put(path, {"on": True}, content_type="application/json").status_code == 404
    answer = client.post(reverse("savedviews:preference", args=[gold.pk]), {"action": "pin_on"})
    assert answer.status_code == 404
    client.force_login(org.member_a)
    body = {"role_id": member_role(org).pk, "view_id": everyone.pk}
    assert (
        client.post(
            "/api/v1/views/role-defaults", body, content_type="application/json"
        ).status_code
        == 403
    )
    client.force_login(org.admin)
    made = client.post("/api/v1/views/role-defaults", body, content_type="application/json").json()
    assert made["view"]["id"] == everyone.pk and made["object_type"] == "contacts.person"
    assert [d["id"] for d in client.get("/api/v1/views/role-defaults").json()] == [made["id"]]
    client.force_login(org.member_b)
    prefs = client.get("/api/v1/views/preferences?type=people").json()
    assert prefs["default_view"]["id"] == everyone.pk
    client.force_login(org.admin)
    assert client.delete(f"/api/v1/views/role-defaults/{made['id']}").status_code == 204
    assert client.delete(f"/api/v1/views/role-defaults/{made['id']}").status_code == 404

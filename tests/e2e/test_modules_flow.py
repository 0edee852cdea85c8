"""In a browser: the administrator switches sales off for the warehouse department; its
member no longer finds deals (menu, search, API: 404) while a salesperson still does;
switched back on, the deals return."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.e2e


def test_sales_switched_off_for_the_warehouse_and_back_on(new_page, org, make_user):
    from kontor.accounts import services as accounts
    from kontor.core.access import SYSTEM
    from kontor.sales import services as sales

    warehouse = accounts.create_department(name="Warehouse", parent=org.dept.root, actor=SYSTEM)
    walter = make_user("walter@example.com", department=warehouse, roles=["head"])
    sales.create_deal({"title": "Racks for the warehouse"}, actor=walter)

    admin = new_page()
    log_in(admin, "admin@example.com", PASSWORD)
    member = new_page()
    log_in(member, "walter@example.com", PASSWORD)

    def member_sees_deals(sees: bool):
        member.goto("/")
        nav = member.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Deals")).to_have_count(1 if sees else 0)
        member.goto("/search/?q=racks")
        expect(member.get_by_role("link", name="Racks for the warehouse")).to_have_count(
            1 if sees else 0
        )
        assert member.request.get("/api/v1/deals").status == (200 if sees else 404)
        assert member.goto("/deals/").status == (200 if sees else 404)

    def save_modules():
        admin.get_by_role("button", name="Save").click()

    member_sees_deals(True)
    admin.goto("/settings/")
    admin.get_by_role("link", name="Modules").click()
    expect(admin.get_by_text("No data is deleted")).to_be_visible()
    admin.get_by_label("Sales for Warehouse").select_option("off")
    save_modules()
    confirm = admin.get_by_test_id("modules-confirm")
    expect(confirm).to_contain_text("Sales for Warehouse")
    confirm.get_by_role("button", name="Yes, switch off").click()
    expect(admin.locator(".flash-success")).to_contain_text("The modules were saved.")
    expect(admin.get_by_label("Sales for Warehouse")).to_have_value("off")

    member_sees_deals(False)
    # The salesperson of another department is not affected.
    seller = new_page()
    log_in(seller, "head@example.com", PASSWORD)
    expect(
        seller.get_by_role("navigation", name="Main").get_by_role("link", name="Deals")
    ).to_be_visible()

    admin.get_by_label("Sales for Warehouse").select_option("inherit")
    save_modules()  # switching on asks nothing
    expect(admin.locator(".flash-success")).to_contain_text("The modules were saved.")
    member_sees_deals(True)

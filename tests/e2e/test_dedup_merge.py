"""Duplicates in a real browser on a phone's width: the pair's page, a merge chosen by
keyboard alone, nothing wider than the screen, and the undo."""

import pytest

from kontor.contacts.models import Person
from tests.conftest import PASSWORD
from tests.dedup.test_pages import two_annas

from .conftest import log_in

pytestmark = pytest.mark.e2e

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_a_merge_on_a_phone_by_keyboard_then_undone(new_page, org):
    keep, gone, _pair = two_annas(org)
    page = new_page({"width": 390, "height": 844})
    log_in(page, org.sales_head.email, PASSWORD)
    page.goto("/duplicates/?type=person")
    assert page.evaluate(OVERFLOW) <= 0
    page.get_by_role("link", name="Compare and merge").click()
    page.wait_for_selector("[data-testid=merge-form]")
    assert page.evaluate(OVERFLOW) <= 0
    # The last name: the second record's, chosen with the arrow key in its group.
    first_choice = page.locator('input[name="field:last_name"][value="first"]')
    first_choice.focus()
    page.keyboard.press("ArrowDown")
    assert page.locator('input[name="field:last_name"][value="second"]').is_checked()
    page.get_by_role("button", name="Merge").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=merge-done]")
    survivor = Person.objects.get()
    assert survivor.pk == keep.pk and survivor.last_name == "Schmitt"
    assert survivor.position == gone.position  # the survivor's was empty
    page.get_by_role("button", name="Undo the merge").click()
    page.wait_for_url(f"**/people/{keep.pk}/")
    assert Person.objects.count() == 2
    # The pair is offered again after the next scan, not before.
    assert page.locator("[data-testid=possible-duplicates]").count() == 0

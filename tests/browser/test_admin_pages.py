"""The Django admin as an admin uses it: a user's role, team and department are the first
fields of the user form; Django's own permission flags are folded below."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.test_layout import LAPTOP
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_user_form_leads_with_vocs_role_team_and_department(page: Page, cast):
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.admin.username, cast.password)
    page.goto(reverse("admin:people_user_change", args=[cast.rep.id]))
    fields = page.locator("#user_form").locator("select:visible, input:visible")
    names = fields.evaluate_all("els => els.map(e => e.name).filter(n => n)")
    assert names[:3] == ["role", "team", "department"]
    expect(page.locator("#id_role")).to_have_value("rep")
    assert (
        page.locator("#id_role").bounding_box()["y"]
        < page.locator("#id_username").bounding_box()["y"]
    )
    # The permission flags are there, folded: VoC's access comes from the role.
    expect(page.locator("#id_is_superuser")).to_be_hidden()
    page.get_by_role("heading", name="Permissions").click()
    expect(page.locator("#id_is_superuser")).to_be_visible()

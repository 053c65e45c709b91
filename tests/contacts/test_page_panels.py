"""Panels and actions a later app adds to the contact and customer pages through
contacts.registry, shown by capability and per object, with their text escaped."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from contacts import registry
from contacts.access import LOG_CONTACTS, VIEW_CONTACTS
from contacts.models import Contact
from contacts.registry import (
    CONTACT_PAGE,
    CUSTOMER_PAGE,
    PageAction,
    PagePanel,
    register_page_action,
    register_page_panel,
)
from tests.factories import CustomerFactory
from voc.core.home import Fragment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_panels", {page: {} for page in registry.PAGES})
    monkeypatch.setattr(registry, "_actions", {page: {} for page in registry.PAGES})


@pytest.fixture
def customer():
    return CustomerFactory(name="Ada <script>alert(1)</script>")


@pytest.fixture
def contact(cast, customer):
    return Contact.objects.create(
        source="test",
        external_id="c-1",
        channel="phone",
        occurred_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        team=cast.team_a,
        customer=customer,
    )


def echo_panel(obj, viewer) -> Fragment:
    """A panel that shows who looks at what, through a template that escapes."""
    return Fragment("core/link_error.html", {"message": f"{viewer.username} sees {obj}"})


def register_examples(page: str) -> None:
    register_page_panel(page, PagePanel("test.echo", "Echo", VIEW_CONTACTS, echo_panel))
    register_page_panel(page, PagePanel("test.none", "Nothing", VIEW_CONTACTS, lambda o, v: None))
    register_page_action(
        page, PageAction("test.act", "Do it", LOG_CONTACTS, lambda obj, viewer: f"/do/{obj.pk}/")
    )
    register_page_action(
        page, PageAction("test.hidden", "Hidden", VIEW_CONTACTS, lambda o, v: None)
    )


@pytest.mark.parametrize("role, acts", [("rep", True), ("manager", True), ("executive", False)])
def test_the_contact_page_shows_registered_panels_and_actions_by_capability(
    client, cast, contact, role, acts
):
    register_examples(CONTACT_PAGE)
    client.force_login(getattr(cast, role))
    response = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert [p.key for p in response.context["page_panels"]] == ["test.echo"]
    assert [a.key for a in response.context["page_actions"]] == (["test.act"] if acts else [])
    page = response.content.decode()
    assert 'data-panel="test.echo"' in page and 'data-panel="test.none"' not in page
    assert f"{cast_name(cast, role)} sees" in page
    assert (f'href="/do/{contact.id}/"' in page) is acts
    assert "Hidden" not in page


def cast_name(cast, role: str) -> str:
    return getattr(cast, role).username


def test_panel_text_is_escaped(client, cast, contact):
    register_page_panel(CUSTOMER_PAGE, PagePanel("test.echo", "Echo", VIEW_CONTACTS, echo_panel))
    client.force_login(cast.rep)
    page = client.get(reverse("contacts:customer-detail", args=[contact.customer_id])).content
    assert b"rep sees Ada &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert b"<script>alert(1)</script>" not in page


def test_the_customer_page_shows_its_own_registrations_only(client, cast, contact):
    register_examples(CUSTOMER_PAGE)
    client.force_login(cast.rep)
    customer_page = client.get(reverse("contacts:customer-detail", args=[contact.customer_id]))
    assert [p.key for p in customer_page.context["page_panels"]] == ["test.echo"]
    assert [a.url for a in customer_page.context["page_actions"]] == [f"/do/{contact.customer_id}/"]
    contact_page = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert (contact_page.context["page_panels"], contact_page.context["page_actions"]) == ([], [])


def test_an_outsider_still_gets_a_404_and_no_panel_runs(client, cast, contact):
    calls = []
    register_page_panel(
        CONTACT_PAGE,
        PagePanel("test.spy", "Spy", VIEW_CONTACTS, lambda o, v: calls.append(o) or None),
    )
    client.force_login(cast.outsider)
    assert client.get(reverse("contacts:contact-detail", args=[contact.id])).status_code == 404
    assert calls == []

"""Every panel the apps put on the contact and customer pages shares one document: an element
id used twice breaks its labels (a click on "Title" fills another panel's field) and the
browser tests that find fields by label. Checked per role with every panel registered."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from tests.loops.world import contact_of, open_issue, reason

pytestmark = pytest.mark.django_db
ID = re.compile(r'\sid="([^"]+)"')


def duplicate_ids(html: str) -> dict[str, int]:
    return {key: n for key, n in Counter(ID.findall(html)).items() if n > 1}


@pytest.mark.parametrize("username", ["rep", "manager", "executive", "admin"])
def test_the_contact_and_customer_pages_use_each_id_once(client, cast, username):
    billing = reason("Double charge", department=cast.dept_a)
    contact = contact_of(cast.team_a, reason=billing, subject="Charged twice", notes="twice")
    open_issue(cast, title="Charged twice at renewal", reasons=[billing])
    client.force_login(getattr(cast, username))
    page = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert len(page.context["page_panels"]) >= 2  # the apps' panels are there to collide
    assert duplicate_ids(page.content.decode()) == {}
    customer = client.get(reverse("contacts:customer-detail", args=[contact.customer_id]))
    assert customer.status_code == 200
    assert duplicate_ids(customer.content.decode()) == {}

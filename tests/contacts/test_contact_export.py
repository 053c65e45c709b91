"""The contact list's CSV and Excel export: the same rows as the list, for every role's scope,
with the list's filters, customer text neutralised and numbers kept numeric."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from contacts.models import Contact, ContactReason
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def contacts(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    customer = CustomerFactory(name='=HYPERLINK("http://evil")')
    return {
        "a": Contact.objects.create(
            source="test",
            external_id="a",
            channel="phone",
            occurred_at=T0,
            team=cast.team_a,
            rep=cast.rep,
            reason=billing,
            customer=customer,
            subject="-2 refunds missing",
            tags=["billing", "refund"],
            outcome="resolved",
            road=2,
            handle_seconds=425,
        ),
        "b": Contact.objects.create(
            source="test",
            external_id="b",
            channel="email",
            occurred_at=T0.replace(hour=10),
            team=cast.team_b,
            rep=cast.outsider,
            reason=outage,
            subject="Down again",
        ),
    }


def export_csv(client, **params) -> list[list[str]]:
    response = client.get(reverse("contacts:contact-export"), {"format": "csv", **params})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.mark.parametrize(
    "role, subjects",
    [
        ("rep", ["'-2 refunds missing"]),
        ("teammate", ["'-2 refunds missing"]),
        ("manager", ["'-2 refunds missing"]),
        ("outsider", ["Down again"]),
        ("other_manager", ["Down again"]),
        ("executive", ["Down again", "'-2 refunds missing"]),
        ("admin", ["Down again", "'-2 refunds missing"]),
    ],
)
def test_each_role_exports_exactly_the_contacts_it_may_see(client, cast, contacts, role, subjects):
    client.force_login(getattr(cast, role))
    rows = export_csv(client)
    assert rows[0][5] == "Subject"
    assert [row[5] for row in rows[1:]] == subjects


def test_the_csv_holds_the_list_columns_with_formulas_neutralised(client, cast, contacts):
    client.force_login(cast.rep)
    rows = export_csv(client)
    assert rows == [
        [
            "When", "Customer", "Channel", "Direction", "Reason", "Subject", "Tags", "Team",
            "Rep", "Outcome", "Road", "Handle seconds",
        ],
        [
            "2026-11-02T09:30:00+00:00", "'=HYPERLINK(\"http://evil\")", "Phone", "Inbound",
            "Billing", "'-2 refunds missing", "billing, refund", "Billing Care",
            str(cast.rep), "Resolved", "2", "425",
        ],
    ]  # fmt: skip


def test_the_export_keeps_the_list_filters(client, cast, contacts):
    client.force_login(cast.admin)
    rows = export_csv(client, channel="email")
    assert [row[5] for row in rows[1:]] == ["Down again"]


def test_the_excel_export_has_numeric_numbers_and_text_formulas(client, cast, contacts):
    client.force_login(cast.rep)
    response = client.get(reverse("contacts:contact-export"), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    _header, row = list(sheet.iter_rows())
    assert row[1].value == '\'=HYPERLINK("http://evil")'
    assert row[1].data_type == "s"
    assert (row[10].value, row[11].value) == (2, 425)
    assert (row[10].data_type, row[11].data_type) == ("n", "n")


def test_an_unknown_format_is_a_400(client, cast, contacts):
    client.force_login(cast.rep)
    response = client.get(reverse("contacts:contact-export"), {"format": "pdf"})
    assert response.status_code == 400
    assert b"csv, xlsx" in response.content


def test_the_inactive_and_anonymous_are_refused(client, cast, contacts):
    response = client.get(reverse("contacts:contact-export"))
    assert response.status_code == 302
    client.force_login(cast.inactive)
    assert client.get(reverse("contacts:contact-export")).status_code in {302, 403}


def test_the_list_links_to_its_export_with_the_filters(client, cast, contacts):
    client.force_login(cast.rep)
    response = client.get(reverse("contacts:contact-list"), {"channel": "phone", "page": "1"})
    url = reverse("contacts:contact-export")
    assert f'href="{url}?channel=phone&amp;format=csv"' in response.content.decode()
    assert f'href="{url}?channel=phone&amp;format=xlsx"' in response.content.decode()

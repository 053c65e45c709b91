"""Deleting a contact logged by mistake: its author or a manager whose scope holds it, only
for contacts logged on VoC's pages; repeat links, rollups and the history stay true."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Message
from contacts.services.contacts import contact_delete, contact_log, contact_may_delete
from tests.contacts.test_write_paths import assert_true_to_a_rebuild
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def reason(cast):
    return ContactReason.objects.create(name="Billing", department=cast.dept_a)


def log(cast, reason, *, hours: float, by=None):
    return contact_log(
        by=by or cast.rep,
        team=cast.team_a,
        channel="phone",
        direction="inbound",
        occurred_at=timezone.now() - timedelta(hours=hours),
        customer_name="Ann Caller",
        customer_email="ann@example.com",
        reason=reason,
        customer_words="My bill is wrong",
    )


def test_the_author_deletes_a_contact_and_links_rollups_and_history_stay_true(cast, reason):
    first = log(cast, reason, hours=5)
    mistake = log(cast, reason, hours=3)
    later = log(cast, reason, hours=1)
    assert (mistake.repeat_of_id, Contact.objects.get(id=later.id).repeat_of_id) == (
        first.id,
        mistake.id,
    )
    contact_delete(contact=mistake, by=cast.rep)
    assert not Contact.objects.filter(id=mistake.id).exists()
    assert not Message.objects.filter(contact_id=mistake.id).exists()
    assert Contact.objects.get(id=later.id).repeat_of_id == first.id  # relinked past it
    assert_true_to_a_rebuild("a delete")
    entry = AuditEntry.objects.get(action="contact.delete")
    assert (entry.actor, entry.target_id) == (cast.rep, mistake.id)
    assert entry.changes["reason_id"] == [reason.id, None]


def test_who_may_delete(cast, reason):
    mine = log(cast, reason, hours=1)
    assert contact_may_delete(contact=mine, user=cast.rep)
    assert not contact_may_delete(contact=mine, user=cast.teammate)  # not the author
    assert contact_may_delete(contact=mine, user=cast.manager)  # heads the department
    assert not contact_may_delete(contact=mine, user=cast.other_manager)  # another department
    assert not contact_may_delete(contact=mine, user=cast.executive)  # reads only
    assert contact_may_delete(contact=mine, user=cast.admin)
    with pytest.raises(PermissionDenied):
        contact_delete(contact=mine, by=cast.teammate)
    assert Contact.objects.filter(id=mine.id).exists()


def test_an_ingested_contact_is_corrected_at_its_source_not_deleted(client, cast, reason):
    result = contacts_ingest(
        rows=[{"source": "crm", "external_id": "1", "channel": "phone", "team": "Billing Care",
               "rep": "rep", "text": "hi", "occurred_at": timezone.now().isoformat()}]
    )  # fmt: skip
    assert not result.rejected, result.rejected
    ingested = Contact.objects.get()
    assert not contact_may_delete(contact=ingested, user=cast.rep)
    assert not contact_may_delete(contact=ingested, user=cast.admin)
    client.force_login(cast.admin)
    assert client.post(reverse("contacts:contact-delete", args=[ingested.id])).status_code == 403
    page = client.get(reverse("contacts:contact-detail", args=[ingested.id])).content.decode()
    assert "Delete contact" not in page
    assert Contact.objects.filter(id=ingested.id).exists()


def test_the_page_offers_deleting_to_the_author_only_and_it_goes_to_the_list(client, cast, reason):
    mine = log(cast, reason, hours=1)
    url = reverse("contacts:contact-detail", args=[mine.id])
    client.force_login(cast.teammate)
    assert "Delete contact" not in client.get(url).content.decode()
    assert client.post(reverse("contacts:contact-delete", args=[mine.id])).status_code == 403
    client.force_login(cast.rep)
    assert "Delete contact" in client.get(url).content.decode()
    response = client.post(reverse("contacts:contact-delete", args=[mine.id]))
    assert response.status_code == 302 and response["Location"] == reverse("contacts:contact-list")
    assert not Contact.objects.filter(id=mine.id).exists()


def test_an_empty_log_form_is_refused_and_stores_nothing(client, cast):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        {"channel": "phone", "direction": "inbound",
         "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Give a reason, a subject or what was said" in response.content.decode()
    assert Contact.objects.count() == 0
    # One of them is enough: a subject alone is a contact.
    response = client.post(
        reverse("contacts:contact-log"),
        {"channel": "phone", "direction": "inbound", "subject": "Asked about opening hours",
         "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert response.status_code == 302
    assert Contact.objects.count() == 1

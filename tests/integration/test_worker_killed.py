"""The Celery worker killed (SIGKILL to the whole process group, as when its machine or
container dies) in the middle of sentiment scoring or of threading an inbound email: nothing
is lost and nothing counted twice.

The killed task is not acknowledged, and Redis gives it back only after the visibility
timeout (an hour), so recovery is the sweep's job: a fresh worker runs
``contacts.sentiment_sweep`` (or ``contacts.inbound_sweep``) as beat would, and every contact
ends up scored (or threaded) once, with the rollups equal to a rebuild. The kill lands at a
known point: tests/integration/paused_worker.py stops the task at its commit, after it wrote
everything and moved the rollups.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.ingest.tokens import ingest_token_create
from contacts.models import Contact, InboundEmail, Message, SupportMailbox
from contacts.sentiment import sentiment_score
from tests.contacts import inbound_payloads as p
from tests.integration.conftest import Worker, wait_for
from voc.core.models import JobRun

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30.0
PAUSED_APP = "tests.integration.paused_worker"
TEXTS = [
    "This is the worst service, I was charged twice.",
    "Thanks, that solved it.",
    "When does my order arrive?",
]


def ingest(cast, count: int) -> None:
    _, key = ingest_token_create(name="Genesys cloud", source="genesys", by=cast.admin)
    rows = [
        {
            "external_id": f"call-{n}",
            "channel": "phone",
            "occurred_at": f"2026-11-{1 + n % 3:02d}T09:30:00Z",
            "customer_ref": f"cust-{n % 7}",  # repeat contacts too
            "text": TEXTS[n % len(TEXTS)],
        }
        for n in range(count)
    ]
    client = APIClient(HTTP_AUTHORIZATION=f"Ingest {key}")
    response = client.post(reverse("api-contact-bulk"), rows, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == count


def run_sweep(worker: Worker, job: str = "contacts.sentiment_sweep") -> JobRun:
    """Queue the sweep by name, as beat does, and wait for its recorded run."""
    from voc.celery import app

    done = set(JobRun.objects.filter(finished_at__isnull=False).values_list("id", flat=True))
    app.send_task(job)
    return wait_for(
        lambda: (
            JobRun.objects.filter(job=job, finished_at__isnull=False).exclude(id__in=done).first()
        ),
        timeout=TIMEOUT,
        message=f"the fresh worker recorded no {job} run",
        worker=worker,
    )


def start_paused_worker(start_worker, tmp_path, *, pause_at_call: int, **env: str) -> Worker:
    """A worker that stops at the commit of its ``pause_at_call``-th sentiment update and
    creates ``tmp_path / "paused"`` there."""
    return start_worker(
        app=PAUSED_APP,
        env={
            "VOC_PAUSE_AT_CALL": str(pause_at_call),
            "VOC_PAUSE_FILE": str(tmp_path / "paused"),
            **env,
        },
    )


def kill_when_paused(worker: Worker, tmp_path) -> None:
    wait_for(
        (tmp_path / "paused").exists,
        timeout=TIMEOUT,
        message="the worker did not reach the pause inside sentiment scoring",
        worker=worker,
    )
    worker.kill()


def assert_everything_scored_once(count: int) -> None:
    contacts = list(Contact.objects.prefetch_related("messages").order_by("id"))
    assert len(contacts) == count
    for contact in contacts:
        [message] = contact.messages.all()
        assert contact.sentiment == sentiment_score(message.text), contact.external_id
    assert {contact.sentiment for contact in contacts} == {sentiment_score(text) for text in TEXTS}
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)  # a doubled delta would show here
    assert "The daily rollups match a rebuild" in out.getvalue()
    assert "The weekly rollups match a rebuild" in out.getvalue()


def test_a_worker_killed_inside_a_scoring_task_leaves_it_to_the_sweep(cast, start_worker, tmp_path):
    paused = start_paused_worker(start_worker, tmp_path, pause_at_call=1)
    ingest(cast, 60)  # queues one scoring task for the 60 contacts after commit

    kill_when_paused(paused, tmp_path)

    # The task had written every score and moved the rollups, uncommitted: all of it is gone.
    assert Contact.objects.filter(sentiment__isnull=True).count() == 60
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "The daily rollups match a rebuild" in out.getvalue()
    assert "The weekly rollups match a rebuild" in out.getvalue()

    fresh = start_worker()
    run = run_sweep(fresh)

    assert (run.status, run.rows_touched, run.error) == (JobRun.Status.SUCCEEDED, 60, "")
    assert_everything_scored_once(60)
    # The next sweep (or the killed task, were Redis to deliver it again) scores nothing twice.
    again = run_sweep(fresh)
    assert (again.status, again.rows_touched) == (JobRun.Status.SUCCEEDED, 0)
    assert_everything_scored_once(60)


def test_a_worker_killed_inside_a_sweep_keeps_its_committed_batches(cast, start_worker, tmp_path):
    # Queued before any worker runs, and dropped when the first one empties the broker: only
    # the sweep scores these, in batches of 40.
    ingest(cast, 100)
    paused = start_paused_worker(start_worker, tmp_path, pause_at_call=2, VOC_SENTIMENT_BATCH="40")
    from voc.celery import app

    app.send_task("contacts.sentiment_sweep")

    kill_when_paused(paused, tmp_path)

    # The first batch committed; the second was written, not committed, and is gone.
    scored = list(
        Contact.objects.filter(sentiment__isnull=False).order_by("id").values_list("id", flat=True)
    )
    assert scored == list(Contact.objects.order_by("id").values_list("id", flat=True)[:40])
    # The killed run is left as it was when the worker died.
    killed = JobRun.objects.get(job="contacts.sentiment_sweep")
    assert (killed.status, killed.finished_at) == (JobRun.Status.RUNNING, None)

    fresh = start_worker()
    run = run_sweep(fresh)

    assert (run.status, run.rows_touched) == (JobRun.Status.SUCCEEDED, 60)  # not the first 40
    assert_everything_scored_once(100)
    again = run_sweep(fresh)
    assert (again.status, again.rows_touched) == (JobRun.Status.SUCCEEDED, 0)


def test_a_worker_killed_while_threading_an_email_leaves_it_to_the_sweep(
    client, cast, start_worker, tmp_path
):
    paused = start_paused_worker(start_worker, tmp_path, pause_at_call=1, VOC_PAUSE_IN="inbound")
    with override_settings(ANYMAIL=p.ANYMAIL, VOC_SES_TOPIC_ARNS=[p.SES_TOPIC]):
        SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)
        form = p.mailgun_mime_form(p.mime(message_id="<killed@mail.example>"))
        response = client.post(
            "/webhooks/inbound/mailgun_mime/", form, HTTP_AUTHORIZATION=p.basic_auth()
        )
        assert response.status_code == 200

    kill_when_paused(paused, tmp_path)

    # The claim, the contact and its message were one transaction: the email is still pending.
    email = InboundEmail.objects.get()
    assert (email.status, email.processed_at, email.contact_id) == ("pending", None, None)
    assert not Contact.objects.exists()
    # The sweep takes emails pending for two minutes: let this one have waited that long.
    InboundEmail.objects.update(received_at=F("received_at") - timedelta(minutes=3))

    fresh = start_worker()
    run = run_sweep(fresh, "contacts.inbound_sweep")

    assert (run.status, run.rows_touched) == (JobRun.Status.SUCCEEDED, 1)
    email.refresh_from_db()
    assert email.status == "threaded"
    assert [contact.id for contact in Contact.objects.all()] == [email.contact_id]
    assert Message.objects.filter(contact_id=email.contact_id).count() == 1
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "The daily rollups match a rebuild" in out.getvalue()
    assert "The weekly rollups match a rebuild" in out.getvalue()
    again = run_sweep(fresh, "contacts.inbound_sweep")
    assert (again.status, again.rows_touched) == (JobRun.Status.SUCCEEDED, 0)
    assert Contact.objects.count() == 1

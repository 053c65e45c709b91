"""The weekly listening reminder: who gets it (active executives below the weekly target last
week, in the reporting time zone), what it says, and that it goes out once per executive and
week however often the job runs."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from feedback.models import Session
from feedback.services.reminders import (
    REMINDER_PURPOSE,
    hours_text,
    listening_reminders_send,
    reminder_key,
    reminder_week,
)
from feedback.tasks import listening_reminders
from tests.factories import UserFactory
from voc.core.business import business_setting_set
from voc.core.models import JobRun, SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Amsterdam")  # UTC+1 in November: local days are not UTC days
# The reminder for ISO week 46 of 2026 (Monday 9 to Sunday 15 November) is due Monday 16
# November at 08:00 local.
WEEK_START = datetime(2026, 11, 9, tzinfo=ZONE)
NEXT_WEEK = datetime(2026, 11, 16, tzinfo=ZONE)
DUE = datetime(2026, 11, 16, 8, 0, tzinfo=ZONE)


@pytest.fixture(autouse=True)
def reporting_zone(settings):
    settings.VOC_REPORTING_TIME_ZONE = "Europe/Amsterdam"
    settings.VOC_BASE_URL = "https://voc.example.com"


def listened(executive, *, start, minutes, rep=None):
    return Session.objects.create(
        executive=executive,
        rep=rep or UserFactory(role=Role.REP),
        scheduled_by=executive,
        scheduled_start=start,
        status=Session.Status.ENDED,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        duration_seconds=minutes * 60,
    )


def reminded() -> dict[str, SendOnce]:
    return {row.to[0]: row for row in SendOnce.objects.filter(purpose=REMINDER_PURPOSE)}


def delivered(row: SendOnce):
    mail.outbox.clear()
    assert send_once_deliver(email_id=row.id) == "sent"
    (message,) = mail.outbox
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return message, html


@pytest.mark.parametrize(("minutes", "emailed"), [(120, False), (119, True), (0, True)])
def test_at_the_target_nothing_one_minute_below_a_reminder(cast, minutes, emailed):
    if minutes:
        listened(cast.executive, start=WEEK_START + timedelta(days=2, hours=10), minutes=minutes)
    assert listening_reminders_send(now=DUE) == int(emailed)
    assert (cast.executive.email in reminded()) is emailed


def test_the_week_is_monday_to_sunday_in_the_reporting_time_zone(cast):
    on_time = UserFactory(role=Role.EXECUTIVE)  # ends Sunday 23:59 local: counts
    listened(on_time, start=NEXT_WEEK - timedelta(hours=2, minutes=1), minutes=120)
    late = UserFactory(role=Role.EXECUTIVE)  # starts Monday 00:00 local: next week's
    listened(late, start=NEXT_WEEK, minutes=120)
    listened(late, start=WEEK_START, minutes=60)  # the week's first instant: counts
    early = UserFactory(role=Role.EXECUTIVE)  # Sunday 23:59 local the week before: not this one
    listened(early, start=WEEK_START - timedelta(minutes=121), minutes=120)
    # Sunday 23:30 UTC is already Monday in Amsterdam: next week's, though a UTC week holds it.
    utc_sunday = UserFactory(role=Role.EXECUTIVE)
    listened(utc_sunday, start=datetime(2026, 11, 15, 23, 30, tzinfo=UTC), minutes=120)

    listening_reminders_send(now=DUE)
    emails = reminded()
    assert on_time.email not in emails
    assert {late.email, early.email, utc_sunday.email} <= set(emails)
    assert emails[late.email].context["week_hours"] == "1 h"
    assert emails[early.email].context["week_hours"] == "0 min"
    assert emails[utc_sunday.email].context["week_hours"] == "0 min"


def test_a_rerun_or_a_second_worker_sends_nothing_more(cast):
    behind = UserFactory(role=Role.EXECUTIVE)
    with time_machine.travel(DUE, tick=False):
        assert listening_reminders() == 2  # cast.executive and behind, both at 0
        assert listening_reminders() == 0
        assert listening_reminders_send() == 0
    with time_machine.travel(DUE + timedelta(days=3), tick=False):
        assert listening_reminders() == 0  # later in the week: still week 46's, sent
    rows = SendOnce.objects.filter(purpose=REMINDER_PURPOSE)
    assert rows.count() == 2
    assert {row.key for row in rows} == {
        f"listening-reminder:{cast.executive.id}:2026-W46",
        f"listening-reminder:{behind.id}:2026-W46",
    }
    mail.outbox.clear()
    for row in rows:
        send_once_deliver(email_id=row.id)
        send_once_deliver(email_id=row.id)  # a redelivered task
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cast.executive.email, behind.email])
    runs = JobRun.objects.filter(job="feedback.listening_reminders").order_by("id")
    assert [run.rows_touched for run in runs] == [2, 0, 0]


def test_the_reminder_goes_out_from_monday_eight_oclock_local(cast):
    assert listening_reminders_send(now=DUE - timedelta(minutes=1)) == 1  # still week 45's turn
    assert SendOnce.objects.get(purpose=REMINDER_PURPOSE).key.endswith(":2026-W45")
    assert listening_reminders_send(now=DUE) == 1
    assert SendOnce.objects.filter(purpose=REMINDER_PURPOSE).count() == 2
    # The next week: the reminder of week 47, once more.
    assert listening_reminders_send(now=DUE + timedelta(days=7)) == 1
    keys = set(SendOnce.objects.values_list("key", flat=True))
    assert {k.rpartition(":")[2] for k in keys} == {"2026-W45", "2026-W46", "2026-W47"}


def test_the_due_week_and_its_key_across_the_new_year():
    assert reminder_week(DUE) == date(2026, 11, 9)
    assert reminder_week(DUE - timedelta(minutes=1)) == date(2026, 11, 2)
    # 7:30 UTC on Monday is 08:30 in Amsterdam: due. 06:59 UTC is 07:59 there: not yet.
    assert reminder_week(datetime(2026, 11, 16, 7, 30, tzinfo=UTC)) == date(2026, 11, 9)
    assert reminder_week(datetime(2026, 11, 16, 6, 59, tzinfo=UTC)) == date(2026, 11, 2)
    monday = reminder_week(datetime(2027, 1, 4, 9, tzinfo=ZONE))
    assert monday == date(2026, 12, 28)
    assert reminder_key(user_id=7, monday=monday) == "listening-reminder:7:2026-W53"
    assert reminder_key(user_id=7, monday=date(2026, 1, 5)) == "listening-reminder:7:2026-W02"


def test_inactive_executives_and_other_roles_never_get_it(cast):
    gone = UserFactory(role=Role.EXECUTIVE, is_active=False)
    listening_reminders_send(now=DUE)
    emails = set(reminded())
    assert emails == {cast.executive.email}  # every one of them listened 0 h
    assert gone.email not in emails
    for who in ("rep", "manager", "admin", "inactive", "outsider"):
        assert getattr(cast, who).email not in emails


def test_the_weekly_target_is_the_business_setting(cast):
    business_setting_set(key="listening_hours_per_week", value=3, by=cast.admin, why="test")
    listened(cast.executive, start=WEEK_START + timedelta(days=1), minutes=150)
    listening_reminders_send(now=DUE)
    assert reminded()[cast.executive.email].context["week_target"] == "3 h"


def test_the_email_says_the_hours_links_to_scheduling_and_escapes(cast):
    cast.executive.first_name, cast.executive.last_name = '<b>Ann & "Co"</b>', "O'Hara"
    cast.executive.save()
    listened(cast.executive, start=WEEK_START + timedelta(days=1), minutes=45)
    listened(cast.executive, start=WEEK_START + timedelta(days=4), minutes=44)
    listened(cast.executive, start=datetime(2026, 3, 2, 9, tzinfo=ZONE), minutes=10 * 60 + 1)
    listened(cast.executive, start=datetime(2025, 12, 30, 9, tzinfo=ZONE), minutes=600)  # 2025
    listening_reminders_send(now=DUE)
    message, html = delivered(reminded()[cast.executive.email])

    assert message.subject == "Listening: 1 h 29 min of your 2 h in week 46 of 2026"
    text = message.body
    assert text.startswith('Hello <b>Ann & "Co"</b> O\'Hara,')
    assert "(week 46 of 2026, Mon 09 Nov to Sun 15 Nov 2026)" in text
    assert "for 1 h 29 min; the target is 2 h a week" in text
    assert "This year (2026) so far: 11 h 30 min of the 100 h target." in text
    assert "https://voc.example.com/feedback/sessions/new/" in text

    assert "<b>Ann" not in html
    assert "&lt;b&gt;Ann &amp; &quot;Co&quot;&lt;/b&gt; O&#x27;Hara" in html
    assert "<strong>1 h 29 min</strong>" in html and "<strong>11 h 30 min</strong>" in html
    assert 'href="https://voc.example.com/feedback/sessions/new/"' in html


def test_hours_are_rounded_down_to_the_minute():
    assert hours_text(2 * 3600 - 1) == "1 h 59 min"
    assert hours_text(2 * 3600) == "2 h"
    assert hours_text(59) == "0 min"
    assert hours_text(45 * 60) == "45 min"


def test_the_reminder_job_is_on_the_beat_schedule(db):
    from django_celery_beat.models import PeriodicTask

    from voc.core.jobs import periodic_jobs_sync, registered_jobs

    assert registered_jobs()["feedback.listening_reminders"].crontab == {"minute": "0"}
    periodic_jobs_sync()
    task = PeriodicTask.objects.get(name="feedback.listening_reminders")
    assert task.task == "feedback.listening_reminders"
    assert task.interval is None
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "*", "*")
    assert (crontab.day_of_month, crontab.month_of_year) == ("*", "*")
    assert task.enabled

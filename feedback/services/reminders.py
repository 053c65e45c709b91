"""The weekly listening reminder: every active executive whose listening in the previous ISO
week was below the weekly target gets one email saying so, with their year so far and a link
to schedule a side-by-side session.

Weeks are ISO weeks (Monday to Sunday) in ``VOC_REPORTING_TIME_ZONE`` and hours are the 5%
tracker's (``feedback.selectors``: ended sessions' real durations, counted in the week they
started in). The reminder for a week goes out from Monday 08:00 of the next week, reporting
time; the job runs every hour, so it is on time in any time zone and through daylight-saving
changes, and a run missed on Monday morning is made up by the next one. Each email is asked for
through the send-once helper, keyed by executive and ISO week: re-running the job, or two
workers running it at once, sends nothing more.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feedback.selectors import TrackerRow, listening_behind
from voc.core.audit import SystemActor
from voc.core.models import SendOnce
from voc.core.sendonce import send_once

REMINDER_PURPOSE = "feedback.listening_reminder"
REMINDER_TEMPLATE = "listening-reminder"
REMINDERS = SystemActor("feedback:listening-reminder")
# The reminder for a week goes out from this time on the Monday after it (reporting time).
SEND_FROM = time(8, 0)


def reminder_week(now: datetime) -> date:
    """The Monday of the ISO week whose reminder is due at ``now``: the week before the current
    one from Monday 08:00 (reporting time) on; before that, the week before that one (whose
    reminder went out last Monday)."""
    local = timezone.localtime(now, ZoneInfo(settings.VOC_REPORTING_TIME_ZONE))
    shifted = local.replace(tzinfo=None) - timedelta(hours=SEND_FROM.hour, minutes=SEND_FROM.minute)
    this_monday = shifted.date() - timedelta(days=shifted.weekday())
    return this_monday - timedelta(days=7)


def reminder_key(*, user_id: int, monday: date) -> str:
    iso_year, iso_week, _ = monday.isocalendar()
    return f"listening-reminder:{user_id}:{iso_year}-W{iso_week:02d}"


def hours_text(seconds: int) -> str:
    """Listening time as people read it: "1 h 59 min", "45 min", "2 h". Minutes are rounded
    down, so time below a target never reads as the target."""
    hours, minutes = divmod(max(seconds, 0) // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def listening_reminders_send(*, now: datetime | None = None) -> int:
    """Ask for the reminder of every executive behind in the week due at ``now``
    (:func:`reminder_week`) who has not had it yet. Returns how many it asked for."""
    monday = reminder_week(now or timezone.now())
    sunday = monday + timedelta(days=6)
    behind = [row for row in listening_behind(week_of=sunday) if row.executive.email]
    keys = {
        row.executive.pk: reminder_key(user_id=row.executive.pk, monday=monday) for row in behind
    }
    already = set(
        SendOnce.objects.filter(purpose=REMINDER_PURPOSE, key__in=list(keys.values())).values_list(
            "key", flat=True
        )
    )
    asked = 0
    with transaction.atomic():
        for row in behind:
            key = keys[row.executive.pk]
            if key in already:
                continue
            _, created = send_once(
                purpose=REMINDER_PURPOSE,
                key=key,
                to=[row.executive.email],
                template=REMINDER_TEMPLATE,
                context=_context(row, monday=monday),
                by=REMINDERS,
            )
            asked += created
    return asked


def _context(row: TrackerRow, *, monday: date) -> dict[str, object]:
    sunday = monday + timedelta(days=6)
    iso_year, iso_week, _ = monday.isocalendar()
    return {
        "name": row.executive.get_full_name() or row.executive.get_username(),
        "week": f"week {iso_week} of {iso_year}",
        "week_dates": f"{monday:%a %d %b} to {sunday:%a %d %b %Y}",
        "week_hours": hours_text(row.week_seconds),
        "week_target": hours_text(row.week_target_hours * 3600),
        "year": str(sunday.year),
        "year_hours": hours_text(row.year_seconds),
        "year_target": hours_text(row.year_target_hours * 3600),
        "site_name": settings.SITE_NAME,
        "site_url": settings.VOC_BASE_URL,
    }

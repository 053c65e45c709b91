"""The digest emails' own filters: a long message is cut at exactly its limit and stays
escaped; a message's time reads in the subscriber's zone, across a clock change."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.template import Context, Template

from loops.templatetags.digest_email import clip, message_time


def test_a_text_of_exactly_the_limit_is_kept_whole():
    assert clip("a" * 1500, 1500) == "a" * 1500


def test_one_character_past_the_limit_ends_in_an_ellipsis_within_the_limit():
    clipped = clip("a" * 1501, 1500)
    assert clipped == "a" * 1499 + "…"
    assert len(clipped) == 1500


def test_clip_agrees_with_truncatechars_on_plain_text():
    text = "Card declined twice, then the app logged me out. " * 40
    django = Template("{{ text|truncatechars:600 }}").render(Context({"text": text}))
    ours = Template("{% load digest_email %}{{ text|clip:600 }}").render(Context({"text": text}))
    assert ours == django


def test_a_clipped_text_is_still_escaped():
    html = Template("{% load digest_email %}{{ text|clip:20 }}").render(
        Context({"text": "<script>alert(1)</script> and more"})
    )
    assert html == "&lt;script&gt;alert(1)&lt;/s…"


def test_a_message_time_reads_in_the_template_zone_on_both_sides_of_a_clock_change():
    template = Template(
        "{% load tz digest_email %}{% timezone zone %}{{ before|message_time }} / "
        "{{ after|message_time }}{% endtimezone %}"
    )
    rendered = template.render(
        Context(
            {
                "zone": ZoneInfo("America/New_York"),
                # 1 November 2026: clocks go back at 02:00 EDT.
                "before": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                "after": datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
            }
        )
    )
    assert rendered == "Sun 1 Nov 01:30 / Sun 1 Nov 02:30"


def test_a_message_without_a_time_shows_none():
    assert message_time(None) == ""

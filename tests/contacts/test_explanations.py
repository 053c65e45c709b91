"""Jargon explained where it appears on the contact page: roads 1–4 and why a suggestion
differs from the road set, the repeat banner's window against the whole timeline, sentiment
as words, no internal source ids for non-admins, and why some timeline rows are greyed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from contacts.views import sentiment_word

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def ingest(n: int, **fields) -> Contact:
    row = {"source": "crm", "external_id": f"TCK-{n}", "channel": "phone",
           "occurred_at": (T0 + timedelta(hours=n)).isoformat(), **fields}  # fmt: skip
    result = contacts_ingest(rows=[row])
    assert not result.rejected, result.rejected
    return Contact.objects.get(id=result.written_contact_ids[0])


def detail(client, contact: Contact) -> str:
    response = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "score, word",
    [(None, None), (-1.0, "negative"), (-0.05, "negative"), (-0.0499, "neutral"), (0.0, "neutral"),
     (0.0499, "neutral"), (0.05, "positive"), (0.93, "positive")],
)  # fmt: skip
def test_sentiment_words_follow_the_negative_threshold_and_its_mirror(score, word, settings):
    settings.VOC_NEGATIVE_SENTIMENT = -0.05
    result = sentiment_word(score)
    assert (result.word if result else None) == word


def test_the_thresholds_move_with_the_setting(settings):
    settings.VOC_NEGATIVE_SENTIMENT = -0.3
    assert sentiment_word(-0.3).word == "negative"
    assert sentiment_word(-0.29).word == "neutral"
    assert sentiment_word(0.29).word == "neutral"
    assert sentiment_word(0.3).word == "positive"


def test_the_page_shows_sentiment_as_a_word_with_the_score_on_hover(client, cast):
    contact = ingest(1, team=cast.team_a.name, text="x")
    Contact.objects.filter(id=contact.id).update(sentiment=-0.4019)
    client.force_login(cast.rep)
    html = detail(client, contact)
    assert (
        '<span class="sentiment sentiment-negative" title="Score -0.40, from −1 (most negative) '
        'to +1 (most positive)" tabindex="0">negative</span>'
    ) in html
    assert ">-0.40<" not in html


def test_reps_see_where_a_contact_came_from_but_not_vocs_internal_ids(client, cast):
    from_crm = ingest(1, team=cast.team_a.name)
    logged = ingest(2, team=cast.team_a.name, source="voc", external_id="9f1c2e7a" * 4)
    emailed = ingest(3, team=cast.team_a.name, source="email", external_id="<a1b2@mail.example>")
    for role in ("rep", "manager", "executive"):
        client.force_login(getattr(cast, role))
        assert 'data-testid="source">crm · TCK-1</dd>' in detail(client, from_crm), role
        html = detail(client, logged)
        assert 'data-testid="source">Logged in VoC</dd>' in html and "9f1c2e7a" not in html
        html = detail(client, emailed)
        assert 'data-testid="source">Email to a support mailbox</dd>' in html
        assert "a1b2@mail.example" not in html
    client.force_login(cast.admin)  # admins trace imports and threads
    assert f"Logged in VoC · {'9f1c2e7a' * 4}" in detail(client, logged)
    assert "Email to a support mailbox · &lt;a1b2@mail.example&gt;" in detail(client, emailed)


def test_the_road_legend_and_why_the_suggestion_differs_from_the_road_set(client, cast):
    contact = ingest(1, team=cast.team_a.name, outcome="link_sent", road=2)
    client.force_login(cast.rep)
    html = detail(client, contact)
    assert 'data-testid="road-legend"' in html
    for road in ("1 · Learn", "2 · Empathy", "3 · Teach", "4 · Go away"):
        assert f"<dt>{road}</dt>" in html
    assert 'data-road="4"' in html
    assert "The road set is 2, not 4" in html
    assert 'data-use-road="4"' in html and "hx-on" not in html.split('id="road-suggestion"')[1]

    url = reverse("contacts:road-suggestion")
    same = client.post(url, {"outcome": "link_sent", "road": "4"}).content.decode()
    assert 'data-road="4"' in same and 'data-testid="road-differs"' not in same
    assert "data-use-road" not in same  # the road already is the suggestion
    unset = client.post(url, {"outcome": "link_sent", "road": ""}).content.decode()
    assert 'data-testid="road-differs"' not in unset and 'data-use-road="4"' in unset
    other = client.post(url, {"outcome": "link_sent", "road": "1"}).content.decode()
    assert "The road set is 1, not 4" in other
    bad = client.post(url, {"outcome": "link_sent", "road": "9x"}).content.decode()
    assert 'data-testid="road-differs"' not in bad


def test_the_repeat_banner_says_its_window_against_the_whole_timeline(client, cast):
    for n, hours in enumerate([0, 24 * 40, 24 * 80]):  # two old contacts, outside the window
        ingest(10 + n, team=cast.team_a.name, customer_ref="CRM-R", occurred_at=(
            T0 + timedelta(hours=hours)).isoformat())  # fmt: skip
    ingest(20, team=cast.team_b.name, customer_ref="CRM-R",
           occurred_at=(T0 + timedelta(days=81)).isoformat())  # fmt: skip
    latest = ingest(21, team=cast.team_a.name, customer_ref="CRM-R",
                    occurred_at=(T0 + timedelta(days=82)).isoformat())  # fmt: skip
    client.force_login(cast.rep)
    html = " ".join(detail(client, latest).split())
    assert "Spoke to us 3 times in the last 7 days</strong>" in html
    assert (
        "This counts the contacts in the 7 days up to this one (the repeat window). The customer "
        "timeline below shows all 5 of their contacts, since 2026-11-02." in html
    )


def test_greyed_timeline_rows_say_why(client, cast):
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    mine = ingest(1, team=cast.team_a.name, customer_ref="CRM-T", subject="Seen by team A")
    theirs = ingest(2, team=cast.team_b.name, customer_ref="CRM-T", reason=outage.name,
                    subject="Private to team B")  # fmt: skip
    client.force_login(cast.rep)
    html = detail(client, mine)
    assert html.count("not in your contacts") == 1
    assert html.count('data-testid="timeline-restricted-note"') == 1
    assert 'class="timeline-entry timeline-contact restricted"' in html
    assert "Private to team B" not in html
    client.force_login(cast.executive)  # sees everything: nothing greyed, no note
    html = detail(client, mine)
    assert "not in your contacts" not in html and "timeline-restricted-note" not in html
    assert reverse("contacts:contact-detail", args=[theirs.id]) in html

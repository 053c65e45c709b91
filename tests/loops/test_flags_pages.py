"""The flag panel on the contact page, me too and propose from it, the issue page's figure,
"What I flagged" on the home page and the My flags page; customer text escaped everywhere."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from loops.flags.selectors import PER_DAY_DAYS, contacts_per_day
from loops.flags.services import flag_me_too, flag_propose
from loops.models import Flag, Issue, IssueEvidence
from loops.services.issues import evidence_add, issue_transition
from tests.loops.flags_world import make_world
from tests.loops.world import T0, contact_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        yield


@pytest.fixture
def world(cast):
    return make_world(cast)


@pytest.fixture
def contact(cast, world):
    return contact_of(cast.team_a, reason=world.billing, notes="They charged me twice at renewal")


def test_the_panel_lists_the_suggestions_with_their_daily_figure(cast, world, contact, client):
    client.force_login(cast.rep)
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    assert 'data-panel="loops.flags"' in page
    first = page.index(f'data-issue="{world.double.pk}"')
    assert first < page.index(f'data-issue="{world.refund.pk}"')
    # Two evidence contacts in the last 28 days: 2/28 = 0.1 a day.
    assert '<td class="num" data-testid="per-day"' in page
    assert ">0.1</td>" in page[first:]
    assert page.count('data-testid="me-too"') == 3


def test_me_too_from_the_panel_comes_back_to_the_contact(cast, world, contact, client):
    client.force_login(cast.rep)
    url = reverse("loops:flag-me-too", args=[contact.pk])
    response = client.post(url, {"issue": world.double.pk}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("contacts:contact-detail", args=[contact.pk])
    assert f"this contact is issue #{world.double.pk} too" in response.content.decode()
    assert Flag.objects.filter(issue=world.double, contact=contact, flagged_by=cast.rep).exists()
    assert 'data-testid="flagged"' in response.content.decode()
    again = client.post(url, {"issue": world.double.pk}, follow=True).content.decode()
    assert "already" in again
    assert Flag.objects.count() == 1


def test_me_too_on_a_closed_issue_says_why(cast, world, contact, client):
    client.force_login(cast.rep)
    Issue.objects.filter(pk=world.double.pk).update(merged_into=world.refund)
    response = client.post(
        reverse("loops:flag-me-too", args=[contact.pk]), {"issue": world.double.pk}, follow=True
    )
    # A merged issue is no longer a candidate at all.
    assert response.status_code == 404


def test_propose_from_the_panel(cast, world, contact, client):
    client.force_login(cast.rep)
    response = client.post(
        reverse("loops:flag-propose", args=[contact.pk]),
        {"title": "Renewal charged twice", "description": "", "note": ""},
        follow=True,
    )
    issue = Issue.objects.get(title="Renewal charged twice")
    assert f"Issue #{issue.pk} proposed" in response.content.decode()
    assert issue.status == "new" and issue.department == cast.dept_a
    blank = client.post(
        reverse("loops:flag-propose", args=[contact.pk]), {"title": ""}, follow=True
    )
    assert "Title:" in blank.content.decode()


def test_the_new_issue_title_is_suggested_from_the_contact(cast, world, client):
    contact = contact_of(
        cast.team_a, reason=world.billing, subject="Card charged twice. Again!", notes="..."
    )
    client.force_login(cast.rep)
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    assert 'value="Card charged twice."' in page


def test_customer_and_issue_text_is_escaped(cast, world, client):
    world.double.title = "<script>alert(1)</script> charged twice"
    world.double.save()
    from loops.flags.index import issues_index

    issues_index(issue_ids=[world.double.pk])
    contact = contact_of(cast.team_a, reason=world.billing, subject="<script>x</script>",
                         notes="charged twice")  # fmt: skip
    flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    client.force_login(cast.rep)
    for url in (
        reverse("contacts:contact-detail", args=[contact.pk]),
        reverse("home"),
        reverse("loops:my-flags"),
    ):
        page = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert "<script>x</script>" not in page


def test_the_home_page_shows_the_state_of_what_i_flagged(cast, world, contact, client):
    flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    proposed = flag_propose(
        contact=contact_of(cast.team_a, reason=world.billing, notes="hm"), title="Odd", by=cast.rep
    ).issue
    issue_transition(issue=proposed, to="wont_fix", by=cast.manager, why="Works as designed")
    client.force_login(cast.rep)
    page = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-flags"' in page
    assert "Won't fix: Works as designed" in page
    assert f"#{world.double.pk} Double charge on renewal" in page
    # The teammate flagged nothing: no widget.
    client.force_login(cast.teammate)
    assert 'data-testid="home-flags"' not in client.get(reverse("home")).content.decode()


def test_my_flags_lists_only_mine(cast, world, contact, client):
    flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    flag_me_too(contact=contact, issue=world.refund, by=cast.teammate)
    client.force_login(cast.rep)
    page = client.get(reverse("loops:my-flags")).content.decode()
    assert page.count('data-testid="my-flag"') == 1
    assert f'data-issue="{world.double.pk}"' in page


def test_a_rep_may_open_the_issue_they_flagged(cast, world, contact, client):
    client.force_login(cast.rep)
    url = reverse("loops:issue-detail", args=[world.double.pk])
    assert client.get(url).status_code == 404
    flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="issue-per-day"' in page.content.decode()


def test_per_day_counts_each_contact_once_over_exactly_28_days(cast, world):
    now = T0 + timedelta(hours=1)
    issue = world.invoice
    IssueEvidence.objects.filter(issue=issue).delete()
    days = timedelta(days=PER_DAY_DAYS)
    just_inside = contact_of(cast.team_a, at=now - days + timedelta(seconds=1))
    exactly_28_days_old = contact_of(cast.team_a, at=now - days)  # out: the window is open there
    right_now = contact_of(cast.team_a, at=now)
    future = contact_of(cast.team_a, at=now + timedelta(seconds=1))
    for c in (just_inside, exactly_28_days_old, right_now, future):
        evidence_add(issue=issue, source=c, by=cast.manager)
    flag_me_too(contact=just_inside, issue=issue, by=cast.rep)
    flag_me_too(contact=just_inside, issue=issue, by=cast.teammate)  # still one contact
    assert contacts_per_day(issue_ids=[issue.pk], now=now) == {issue.pk: 2 / PER_DAY_DAYS}
    assert contacts_per_day(issue_ids=[issue.pk, world.wifi.pk], now=now - days) == {
        issue.pk: 1 / PER_DAY_DAYS,  # exactly_28_days_old is "now" then
        world.wifi.pk: 0.0,
    }

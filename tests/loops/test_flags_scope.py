"""Who is shown which issues for a contact, and who may flag what (docs/loops-flags.md):
only contacts the flagger can see; the flagger's issue scope plus the issues of the contact
(its team's and its reason's departments, its reason's issues, issues of no department)."""

import pytest
from django.urls import reverse

from loops.flags.selectors import flag_candidates, flag_suggestions
from loops.flags.services import flag_me_too
from loops.models import Flag
from tests.loops.flags_world import make_world
from tests.loops.world import contact_of, open_issue

pytestmark = pytest.mark.django_db

WIFI_WORDS = "The wifi drops every evening and the router restarts itself."


@pytest.fixture
def world(cast):
    return make_world(cast)


def suggested(viewer, contact):
    return [s.issue for s in flag_suggestions(viewer=viewer, contact=contact)]


def test_a_rep_is_shown_the_issues_of_the_contact_in_front_of_them(cast, world):
    contact = contact_of(cast.team_a, reason=world.billing, notes="charged twice at renewal")
    assert suggested(cast.rep, contact)[0] == world.double
    # The wifi issue belongs to department B; nothing ties this contact to it.
    contact = contact_of(cast.team_a, reason=world.billing, notes=WIFI_WORDS)
    assert world.wifi not in suggested(cast.rep, contact)


def test_a_contact_about_another_departments_reason_shows_that_departments_issues(cast, world):
    contact = contact_of(cast.team_a, reason=world.outage, notes=WIFI_WORDS)
    assert suggested(cast.rep, contact)[0] == world.wifi


def test_issues_of_no_department_are_everyones(cast, world):
    issue = open_issue(cast, title="Wifi router restarts in the evening")  # no reason, no dept
    from loops.flags.index import issues_index

    issues_index(issue_ids=[issue.pk])
    contact = contact_of(cast.team_a, reason=world.billing, notes=WIFI_WORDS)
    assert suggested(cast.rep, contact)[0] == issue


def test_the_manager_of_another_department_is_not_shown_department_a_issues(cast, world):
    # other_manager heads department B; a team B contact about a department B reason, in the
    # words of department A's double-charge issue.
    contact = contact_of(cast.team_b, reason=world.outage, notes="charged twice at renewal")
    assert world.double not in suggested(cast.other_manager, contact)
    assert (
        not flag_candidates(viewer=cast.other_manager, contact=contact)
        .filter(pk=world.double.pk)
        .exists()
    )
    # The head of department A, seeing the same contact? Not theirs (team B, reason B): they
    # cannot see it at all, so the page and the API answer 404 (tests below).


def test_once_in_their_scope_the_other_manager_is_shown_it(cast, world):
    contact = contact_of(cast.team_b, reason=world.outage, notes="charged twice at renewal")
    other_contact = contact_of(cast.team_a, reason=world.billing, notes="x")
    # other_manager may see other_contact? No: team A, reason of department A. Flag through the
    # service (as the issue's opener would have) to put the issue in their scope.
    flag_me_too(contact=other_contact, issue=world.double, by=cast.other_manager)
    assert suggested(cast.other_manager, contact)[0] == world.double


def test_the_head_of_department_a_is_shown_its_issues(cast, world):
    contact = contact_of(cast.team_a, reason=world.outage, notes="charged twice at renewal")
    assert suggested(cast.manager, contact)[0] == world.double


def test_a_rep_cannot_flag_a_contact_of_another_team(cast, world, client):
    contact = contact_of(cast.team_b, reason=world.billing, notes="charged twice")
    client.force_login(cast.rep)
    url = reverse("loops:flag-me-too", args=[contact.pk])
    assert client.post(url, {"issue": world.double.pk}).status_code == 404
    api = reverse("api-flag-me-too", args=[contact.pk])
    assert client.post(api, {"issue_id": world.double.pk}, content_type="application/json").status_code == 404  # fmt: skip
    assert client.get(reverse("api-flag-suggestions", args=[contact.pk])).status_code == 404
    assert not Flag.objects.exists()


def test_an_issue_outside_the_flag_scope_is_a_404(cast, world, client):
    contact = contact_of(cast.team_a, reason=world.billing, notes="wifi")
    client.force_login(cast.rep)
    url = reverse("loops:flag-me-too", args=[contact.pk])
    assert client.post(url, {"issue": world.wifi.pk}).status_code == 404
    assert client.post(url, {"issue": 10**9}).status_code == 404
    assert not Flag.objects.exists()


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_executives_and_admins_do_not_flag(cast, world, client, role):
    contact = contact_of(cast.team_a, reason=world.billing, notes="charged twice")
    client.force_login(getattr(cast, role))
    url = reverse("loops:flag-me-too", args=[contact.pk])
    assert client.post(url, {"issue": world.double.pk}).status_code == 403
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk]))
    assert b'data-panel="loops.flags"' not in page.content

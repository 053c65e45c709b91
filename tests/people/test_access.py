import pytest

from voc.core.capabilities import Capability, has_capability
from voc.people.access import owned_department_ids, scope_for, sees_everything, visible_team_ids
from voc.people.models import User

pytestmark = pytest.mark.django_db


def test_reps_see_only_their_own_team(cast):
    scope = scope_for(cast.rep)
    assert not scope.everything
    assert scope.team_ids == {cast.team_a.id}
    assert scope.department_ids == frozenset()


def test_managers_see_their_department_and_its_teams(cast):
    scope = scope_for(cast.manager)
    assert not scope.everything
    assert scope.department_ids == {cast.dept_a.id}
    assert scope.team_ids == {cast.team_a.id}
    assert cast.team_b.id not in visible_team_ids(cast.manager)


def test_a_manager_sees_teams_they_lead_in_other_departments(cast):
    cast.team_b.lead = cast.manager
    cast.team_b.save()
    assert visible_team_ids(cast.manager) == {cast.team_a.id, cast.team_b.id}
    assert owned_department_ids(cast.manager) == {cast.dept_a.id}


def test_executives_and_admins_see_everything(cast):
    assert sees_everything(cast.executive)
    assert sees_everything(cast.admin)
    assert scope_for(cast.executive).everything
    assert not sees_everything(cast.manager)
    assert not sees_everything(cast.rep)


def test_inactive_and_anonymous_users_see_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    for nobody in (cast.inactive, AnonymousUser()):
        scope = scope_for(nobody)
        assert not scope.everything and not scope.team_ids and not scope.department_ids
        assert not has_capability(nobody, Capability.VIEW_HOME)


def test_scope_filters_rows_by_team_and_department(cast):
    """The Q a later app applies to its own rows; shown here on users (team and department)."""
    rows = User.objects.filter(
        scope_for(cast.manager).q(team_field="team_id", department_field="department_id")
    )
    assert set(rows.values_list("username", flat=True)) == {
        "manager",
        "rep",
        "teammate",
        "inactive",
    }
    everyone = User.objects.filter(scope_for(cast.executive).q(team_field="team_id"))
    assert everyone.count() == User.objects.count()


def test_only_admins_have_operations_capabilities(cast):
    for user in (cast.rep, cast.manager, cast.executive):
        assert not has_capability(user, Capability.VIEW_JOB_RUNS)
        assert not has_capability(user, Capability.USE_ADMIN)
        assert not has_capability(user, Capability.MANAGE_BUSINESS_SETTINGS)
        assert has_capability(user, Capability.VIEW_PEOPLE)
    assert has_capability(cast.admin, Capability.VIEW_JOB_RUNS)
    assert has_capability(cast.admin, Capability.VIEW_OUTBOX)
    assert has_capability(cast.admin, Capability.MANAGE_BUSINESS_SETTINGS)


def test_superusers_count_as_admins(cast):
    cast.rep.is_superuser = True
    cast.rep.save()
    assert has_capability(cast.rep, Capability.USE_ADMIN)
    assert cast.rep.is_staff


def test_staff_status_follows_the_role(cast):
    assert cast.admin.is_staff
    assert not cast.manager.is_staff
    cast.admin.role = "rep"
    cast.admin.save(update_fields=["role"])
    cast.admin.refresh_from_db()
    assert not cast.admin.is_staff

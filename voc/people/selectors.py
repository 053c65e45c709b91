from django.db.models import Count, Q, QuerySet

from voc.people.access import scope_for
from voc.people.models import ApiToken, Department, Team, User


def user_list_visible(*, viewer: User) -> QuerySet[User]:
    """People the viewer may see: everyone for executives and admins, otherwise the members of
    their visible teams and owned departments, and themselves."""
    scope = scope_for(viewer)
    users = User.objects.filter(is_active=True).select_related("team", "department")
    if scope.everything:
        return users
    return users.filter(
        Q(team_id__in=scope.team_ids) | Q(department_id__in=scope.department_ids) | Q(id=viewer.id)
    )


def team_list_visible(*, viewer: User) -> QuerySet[Team]:
    scope = scope_for(viewer)
    teams = Team.objects.select_related("department", "lead").annotate(
        member_count=Count("members", filter=Q(members__is_active=True))
    )
    if scope.everything:
        return teams
    return teams.filter(id__in=scope.team_ids)


def department_list_visible(*, viewer: User) -> QuerySet[Department]:
    scope = scope_for(viewer)
    departments = Department.objects.select_related("head").annotate(team_count=Count("teams"))
    if scope.everything:
        return departments
    team_departments = Team.objects.filter(id__in=scope.team_ids).values("department_id")
    return departments.filter(Q(id__in=scope.department_ids) | Q(id__in=team_departments))


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_for_user(*, user: User, token_id: int) -> ApiToken | None:
    """A user's own token; another user's token is indistinguishable from a missing one."""
    return ApiToken.objects.filter(user=user, id=token_id).first()

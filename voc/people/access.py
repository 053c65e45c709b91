"""Who may do what, and which rows they may see. Pages and the API both use these rules.

Capabilities answer "may this user use this feature at all" (voc.core.capabilities; the
platform's are granted to the roles here). Row scope answers "which rows":
people does not know other apps' models, so it hands out plain sets of ids and each app's
selectors apply them to their own rows:

- reps see their own team's contacts and customers;
- managers see their department's (contacts whose reason their department owns) and their
  teams' (teams they lead, and teams of the departments they head);
- executives and admins see everything.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from rest_framework.request import Request

from voc.core.capabilities import Capability, effective_role, register_capabilities
from voc.people.models import Department, Team, User
from voc.people.roles import Role

# What every role may use; admins also get the operations capabilities. Granted from
# PeopleConfig.ready() (grant_platform_capabilities), since voc.core knows no roles.
EVERYONE = (
    Capability.VIEW_HOME,
    Capability.VIEW_PEOPLE,
    Capability.MANAGE_OWN_TOKENS,
    Capability.VIEW_API_DOCS,
)


def grant_platform_capabilities() -> None:
    for role in (Role.REP, Role.MANAGER, Role.EXECUTIVE):
        register_capabilities(role, *EVERYONE)
    register_capabilities(Role.ADMIN, *Capability)


@dataclass(frozen=True)
class Scope:
    """The rows a user may see. ``everything`` wins over the id sets."""

    everything: bool
    team_ids: frozenset[int]
    department_ids: frozenset[int]

    def q(self, *, team_field: str, department_field: str | None = None) -> Q:
        """A filter for rows that belong to a team (and, for managers, a department)."""
        if self.everything:
            return Q()
        condition = Q(**{f"{team_field}__in": self.team_ids})
        if department_field:
            condition |= Q(**{f"{department_field}__in": self.department_ids})
        return condition


def request_viewer(request: HttpRequest | Request) -> User:
    """The signed-in user of a request that signing in (``capability_required``, the admin
    site) let through; PermissionDenied for an anonymous one."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


NOTHING = Scope(everything=False, team_ids=frozenset(), department_ids=frozenset())


def sees_everything(user: User | AnonymousUser) -> bool:
    return effective_role(user) in {Role.EXECUTIVE, Role.ADMIN}


def owned_department_ids(user: User | AnonymousUser) -> frozenset[int]:
    """Departments whose rows a manager owns: the ones they head and their own."""
    if not user.is_authenticated or effective_role(user) != Role.MANAGER:
        return frozenset()
    ids = set(Department.objects.filter(head=user).values_list("id", flat=True))
    if user.department_id:
        ids.add(user.department_id)
    return frozenset(ids)


def visible_team_ids(
    user: User | AnonymousUser, *, departments: frozenset[int] | None = None
) -> frozenset[int]:
    if not user.is_authenticated:
        return frozenset()
    role = effective_role(user)
    if role == Role.REP:
        return frozenset({user.team_id}) if user.team_id else frozenset()
    if role == Role.MANAGER:
        departments = owned_department_ids(user) if departments is None else departments
        ids = Team.objects.filter(Q(lead=user) | Q(department_id__in=departments)).values_list(
            "id", flat=True
        )
        return frozenset(ids) | ({user.team_id} if user.team_id else set())
    return frozenset()


def scope_for(user: User | AnonymousUser) -> Scope:
    if effective_role(user) is None:
        return NOTHING
    if sees_everything(user):
        return Scope(everything=True, team_ids=frozenset(), department_ids=frozenset())
    departments = owned_department_ids(user)
    return Scope(
        everything=False,
        team_ids=visible_team_ids(user, departments=departments),
        department_ids=departments,
    )

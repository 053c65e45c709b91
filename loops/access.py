"""Capabilities of the loops pages and API, granted to roles from LoopsConfig.ready(), and the
row scope of issues (``issue_scope_q``).

- Reps flag contacts as a known or a new issue and follow what they flagged.
- Managers run their departments' issues: triage, assign, fix, verify, notify customers; they
  call back detractors and complainers (follow-ups).
- Executives see every issue, sponsor some, and promote what they heard into issues.
- Admins read everything and set the SLA policies; they do not write to customers.
"""

from django.db.models import Q, QuerySet

from loops.models import Escalation, Flag
from voc.core.capabilities import effective_role, register_capabilities
from voc.people.access import owned_department_ids, sees_everything
from voc.people.models import Department, User
from voc.people.roles import Role

VIEW_ISSUES = "loops.issues_view"
MANAGE_ISSUES = "loops.issues_manage"  # triage, assign, change status, merge, edit
FLAG_CONTACTS = "loops.flag"  # "me too" and propose a new issue from a contact
PROMOTE = "loops.promote"  # a feedback item, session note or outreach entry → issue
SEND_NOTICES = "loops.notices_send"  # preview, approve and send a fix notice
WORK_FOLLOW_UPS = "loops.follow_ups_work"
VIEW_FOLLOW_UPS = "loops.follow_ups_view"
EDIT_SLA = "loops.sla_edit"

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW_ISSUES, FLAG_CONTACTS, PROMOTE),
    Role.MANAGER: (
        VIEW_ISSUES,
        MANAGE_ISSUES,
        FLAG_CONTACTS,
        PROMOTE,
        SEND_NOTICES,
        WORK_FOLLOW_UPS,
        VIEW_FOLLOW_UPS,
    ),
    Role.EXECUTIVE: (VIEW_ISSUES, MANAGE_ISSUES, PROMOTE, VIEW_FOLLOW_UPS),
    Role.ADMIN: (VIEW_ISSUES, VIEW_FOLLOW_UPS, EDIT_SLA),
}


def register_loops_capabilities() -> None:
    for role, capabilities in ROLE_GRANTS.items():
        register_capabilities(role, *capabilities)


def issue_scope_q(viewer: User, *, prefix: str = "") -> Q | None:
    """The issues ``viewer`` may see, as a filter on Issue (``prefix`` for a related model,
    e.g. "issue__"), or None for none at all. Executives and admins see every issue; a
    manager their departments' (the ones they head and their own), the ones they own, the
    ones they opened and the ones escalated to them; a rep the ones they flagged or opened."""
    role = effective_role(viewer)
    if role is None:
        return None
    if sees_everything(viewer):
        return Q()
    # Subqueries rather than joins: no duplicate rows, and the planner reads the other terms
    # from their indexes instead of probing every issue (bench/board_bench.py).
    flagged = Q(**{f"{prefix}id__in": Flag.objects.filter(flagged_by=viewer).values("issue_id")})
    mine = Q(**{f"{prefix}created_by": viewer}) | flagged
    if role == Role.MANAGER:
        departments = owned_department_ids(viewer)
        # Escalated to them (loops/sla/): they must see what they are told to act on.
        escalated = Escalation.objects.filter(notified=viewer, issue__isnull=False)
        return (
            mine
            | Q(**{f"{prefix}department_id__in": departments})
            | Q(**{f"{prefix}owner": viewer})
            | Q(**{f"{prefix}id__in": escalated.values("issue_id")})
        )
    return mine


def heads_department(user: User, department_id: int | None) -> bool:
    """``user`` is the head of this department (not merely a member of it)."""
    return (
        department_id is not None
        and Department.objects.filter(id=department_id, head_id=user.pk).exists()
    )


# --- the bcc program (loops/digests/) --------------------------------------------------------
# Everyone reads digests within their own row scope; managers enrol their departments' people,
# admins enrol anyone (executives first) and see every subscription and delivery failure.
SUBSCRIBE_DIGESTS = "loops.digests_subscribe"
ENROL_DIGESTS = "loops.digests_enrol"
ADMINISTER_DIGESTS = "loops.digests_admin"

DIGEST_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (SUBSCRIBE_DIGESTS,),
    Role.MANAGER: (SUBSCRIBE_DIGESTS, ENROL_DIGESTS),
    Role.EXECUTIVE: (SUBSCRIBE_DIGESTS,),
    Role.ADMIN: (SUBSCRIBE_DIGESTS, ENROL_DIGESTS, ADMINISTER_DIGESTS),
}


def register_digest_capabilities() -> None:
    for role, capabilities in DIGEST_GRANTS.items():
        register_capabilities(role, *capabilities)


def enrollable_users(enroller: User) -> QuerySet[User]:
    """Whom ``enroller`` may enrol: an admin anyone active; a manager the active people of the
    departments they own (head or belong to) and of the teams they lead."""
    users = User.objects.filter(is_active=True)
    role = effective_role(enroller)
    if role == Role.ADMIN:
        return users
    if role != Role.MANAGER:
        return users.none()
    departments = owned_department_ids(enroller)
    return users.filter(
        Q(department_id__in=departments)
        | Q(team__department_id__in=departments)
        | Q(team__lead=enroller)
    ).distinct()

"""Capabilities of make it right, granted to roles from ContactsConfig.ready().

Those who log contacts give gestures (reps, managers, admins); executives listen and do not
log, but they approve, as managers and admins do (row rules in contacts.gestures.rules). The
report of spend against what happened next is for managers (their scope), executives and
admins. Anyone who may see a contact sees its gestures.
"""

from voc.core.capabilities import register_capabilities
from voc.people.roles import Role

GIVE_GESTURES = "contacts.gestures_give"
DECIDE_GESTURES = "contacts.gestures_decide"
VIEW_GESTURE_REPORT = "contacts.gestures_report"

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (GIVE_GESTURES,),
    Role.MANAGER: (GIVE_GESTURES, DECIDE_GESTURES, VIEW_GESTURE_REPORT),
    Role.EXECUTIVE: (DECIDE_GESTURES, VIEW_GESTURE_REPORT),
    Role.ADMIN: (GIVE_GESTURES, DECIDE_GESTURES, VIEW_GESTURE_REPORT),
}


def register_gesture_capabilities() -> None:
    for role, capabilities in ROLE_GRANTS.items():
        register_capabilities(role, *capabilities)

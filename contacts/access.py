"""Capabilities of the contacts pages, granted to roles from ContactsConfig.ready().

Everyone browses contacts within their row scope (voc.people.access); reps, managers and admins
also log and edit them. Executives browse: they listen, they do not log.
"""

from voc.core.capabilities import register_capabilities
from voc.people.roles import Role

VIEW_CONTACTS = "contacts.view"
LOG_CONTACTS = "contacts.log"
# Erasing a customer (docs/erasure.md) is irreversible: admins only.
ERASE_CUSTOMERS = "contacts.erase_customers"

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW_CONTACTS, LOG_CONTACTS),
    Role.MANAGER: (VIEW_CONTACTS, LOG_CONTACTS),
    Role.EXECUTIVE: (VIEW_CONTACTS,),
    Role.ADMIN: (VIEW_CONTACTS, LOG_CONTACTS, ERASE_CUSTOMERS),
}


def register_contact_capabilities() -> None:
    for role, capabilities in ROLE_GRANTS.items():
        register_capabilities(role, *capabilities)

"""The capability of the inbound-email page, granted to admins from ContactsConfig.ready()."""

from voc.core.capabilities import register_capabilities
from voc.people.roles import Role

VIEW_INBOUND = "ops.inbound_email"


def register_inbound_capabilities() -> None:
    register_capabilities(Role.ADMIN, VIEW_INBOUND)

"""The rules of make it right as pure functions, testable without a database (like
contacts.roads): does a gesture need approval, and who may decide one."""

from dataclasses import dataclass
from decimal import Decimal

from voc.people.roles import Role


@dataclass(frozen=True)
class AllowanceLeft:
    """A person's allowance this month: per gesture, per month, what they granted themselves
    so far this month, and what is left."""

    per_gesture: Decimal
    per_month: Decimal
    spent: Decimal
    currency: str

    @property
    def left(self) -> Decimal:
        return max(Decimal("0.00"), self.per_month - self.spent)

    @property
    def up_to(self) -> Decimal:
        """The most one gesture may be worth now without approval."""
        return min(self.per_gesture, self.left)


def needs_approval(value: Decimal, allowance: AllowanceLeft) -> bool:
    """Within the allowance (this gesture at most the per-gesture allowance, and the month's
    total with it at most the monthly one; exactly at either limit is within) a gesture is
    granted at once. A gesture worth nothing costs nothing: always granted."""
    if value == 0:
        return False
    return value > allowance.per_gesture or allowance.spent + value > allowance.per_month


@dataclass(frozen=True)
class Decider:
    """Who looks at a waiting gesture: their id, their role, and whether they lead the
    gesture's team or head its department."""

    user_id: int
    role: str | None
    leads_the_team: bool
    heads_the_department: bool


def may_decide(decider: Decider, *, given_by_id: int) -> bool:
    """Nobody decides their own gesture; executives and admins decide any other; a manager
    decides those of a team they lead or of a department they head."""
    if decider.user_id == given_by_id:
        return False
    if decider.role in (Role.EXECUTIVE, Role.ADMIN):
        return True
    if decider.role == Role.MANAGER:
        return decider.leads_the_team or decider.heads_the_department
    return False

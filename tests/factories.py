from types import SimpleNamespace

import factory
from factory.django import DjangoModelFactory

from contacts.models import Customer
from voc.people.models import Department, Team, User
from voc.people.roles import Role

PASSWORD = "correct-horse-battery"


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    department = factory.SubFactory(DepartmentFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    password = factory.django.Password(PASSWORD)


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    external_ref = factory.Sequence(lambda n: f"CUST-{n:06d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda c: f"{c.external_ref.lower()}@customer.example")


def make_cast() -> SimpleNamespace:
    """Two departments, each with a team; a head (manager) for each; reps in both teams; an
    executive, an admin, and an inactive rep.

    - ``manager`` heads ``dept_a`` (whose team is ``team_a``); ``other_manager`` heads ``dept_b``.
    - ``rep`` and ``teammate`` are in ``team_a``; ``outsider`` is a rep in ``team_b``.
    """
    dept_a = DepartmentFactory(name="Billing")
    dept_b = DepartmentFactory(name="Technical Support")
    manager = UserFactory(username="manager", role=Role.MANAGER, department=dept_a)
    other_manager = UserFactory(username="other_manager", role=Role.MANAGER, department=dept_b)
    dept_a.head, dept_b.head = manager, other_manager
    dept_a.save()
    dept_b.save()
    team_a = TeamFactory(name="Billing Care", department=dept_a, lead=manager)
    team_b = TeamFactory(name="Tech Tier 1", department=dept_b, lead=other_manager)
    return SimpleNamespace(
        dept_a=dept_a,
        dept_b=dept_b,
        team_a=team_a,
        team_b=team_b,
        manager=manager,
        other_manager=other_manager,
        rep=UserFactory(username="rep", role=Role.REP, team=team_a, department=dept_a),
        teammate=UserFactory(username="teammate", role=Role.REP, team=team_a, department=dept_a),
        outsider=UserFactory(username="outsider", role=Role.REP, team=team_b, department=dept_b),
        executive=UserFactory(username="executive", role=Role.EXECUTIVE),
        admin=UserFactory(username="admin", role=Role.ADMIN),
        inactive=UserFactory(username="inactive", role=Role.REP, team=team_a, is_active=False),
        password=PASSWORD,
    )

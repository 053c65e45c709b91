"""Demo people: a telecom's departments, teams and 36 users across every role.

Every demo user's password is settings.DEMO_PASSWORD (see the README)."""

from django.conf import settings
from django.contrib.auth.hashers import make_password

from voc.core.demo import DemoContext
from voc.people.models import Department, Team, User
from voc.people.roles import Role

FIRST_NAMES = [
    "Amara", "Ben", "Chiara", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi",
    "Liam", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dmitri", "Esme", "Felix",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Lindqvist", "Moreau", "Patel", "Rossi", "Haddad", "Kowalski", "Nguyen", "Silva",
    "Fischer", "Adeyemi", "Byrne", "Costa", "Dubois", "Eriksen", "Garcia", "Ito", "Jensen",
    "Khan", "Larsen", "Murphy", "Novak", "Ortiz", "Petrov", "Quist", "Reyes", "Sato", "Tanaka",
]  # fmt: skip

# department, head username, teams (name, lead username or None for the head)
STRUCTURE: list[tuple[str, str, list[tuple[str, str | None]]]] = [
    ("Billing", "head.billing", [("Billing Care", None), ("Billing Disputes", "lead.billing")]),
    ("Technical Support", "head.support", [("Tech Support Tier 1", "lead.support"), ("Tech Support Tier 2", None)]),
    ("Delivery & Installation", "head.delivery", [("Installations Desk", None)]),
    ("Digital (Web & App)", "head.digital", [("Digital Help", None)]),
    ("Sales & Retention", "head.retention", [("Retention Desk", None)]),
    ("Network Operations", "head.network", []),
]  # fmt: skip
EXECUTIVES = [
    ("ceo", "Chief Executive Officer"),
    ("coo", "Chief Operating Officer"),
    ("cfo", "Chief Financial Officer"),
    ("cmo", "Chief Marketing Officer"),
    ("vp.cx", "VP Customer Experience"),
]
ADMINS = ["admin", "admin.it"]
REPS_PER_TEAM = 3


def seed_people(ctx: DemoContext) -> None:
    password = make_password(settings.DEMO_PASSWORD)  # hashed once: the same for every demo user
    names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    ctx.rng.shuffle(names)
    domain = "northwind.example"

    def person(username: str, role: str, title: str, **fields) -> User:
        first, last = names.pop()
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@{domain}".lower(),
            role=role,
            title=title,
            password=password,
            **fields,
        )
        user.save()
        return user

    admins = [person(name, Role.ADMIN, "Platform admin") for name in ADMINS]
    admins[0].is_superuser = True
    admins[0].save(update_fields=["is_superuser"])
    ceo = person("ceo", Role.EXECUTIVE, "Chief Executive Officer")
    executives = [ceo] + [
        person(username, Role.EXECUTIVE, title, reports_to=ceo)
        for username, title in EXECUTIVES[1:]
    ]
    coo = executives[1]

    departments, teams, managers, reps = [], [], [], []
    rep_number = 0
    for dept_name, head_username, team_specs in STRUCTURE:
        department = Department.objects.create(name=dept_name)
        head = person(
            head_username,
            Role.MANAGER,
            f"Head of {dept_name}",
            department=department,
            reports_to=coo,
        )
        department.head = head
        department.save(update_fields=["head"])
        departments.append(department)
        managers.append(head)
        for team_name, lead_username in team_specs:
            lead = head
            if lead_username:
                lead = person(
                    lead_username,
                    Role.MANAGER,
                    f"{team_name} lead",
                    department=department,
                    reports_to=head,
                )
                managers.append(lead)
            team = Team.objects.create(name=team_name, department=department, lead=lead)
            if lead is not head:
                lead.team = team
                lead.save(update_fields=["team"])
            teams.append(team)
            for _ in range(REPS_PER_TEAM):
                rep_number += 1
                reps.append(
                    person(
                        f"rep{rep_number:02d}",
                        Role.REP,
                        "Customer care rep",
                        team=team,
                        department=department,
                        reports_to=lead,
                    )
                )

    ctx.data.update(
        departments=departments,
        teams=teams,
        executives=executives,
        managers=managers,
        reps=reps,
        admins=admins,
    )
    total = len(admins) + len(executives) + len(managers) + len(reps)
    ctx.stdout(
        f"  people: {total} users ({len(executives)} executives, {len(managers)} managers, "
        f"{len(reps)} reps, {len(admins)} admins), {len(departments)} departments, {len(teams)} teams"
    )

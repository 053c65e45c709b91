import random
import time
from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from voc.core.demo import DemoContext, demo_seeders


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: departments, teams, users of every role (password in the "
        "README), customers and their contacts. The same seed always gives the same data."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--customers", type=int, default=2000, help="how many customers (default 2000)"
        )
        parser.add_argument(
            "--contacts", type=int, default=5000, help="how many contacts (default 5000)"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if the database already has users (for start-up scripts)",
        )

    def handle(
        self,
        *args: object,
        seed: int,
        customers: int,
        contacts: int,
        if_empty: bool,
        **options: object,
    ) -> None:
        if get_user_model().objects.exists():
            if if_empty:
                self.stdout.write("Demo data: the database already has users; left as it is.")
                return
            raise CommandError("The database already has users; seed_demo loads into an empty one.")
        if contacts and not customers:
            raise CommandError("Contacts need customers: give --customers too.")
        ctx = DemoContext(
            rng=random.Random(seed),
            customers=customers,
            contacts=contacts,
            stdout=self.stdout.write,
        )
        started = time.monotonic()
        with transaction.atomic():
            for label, seeder in demo_seeders():
                step = time.monotonic()
                seeder(ctx)
                self.stdout.write(f"  {label}: {time.monotonic() - step:.1f}s")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {time.monotonic() - started:.1f}s.")
        )

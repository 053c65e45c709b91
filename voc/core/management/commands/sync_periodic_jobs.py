from django.core.management.base import BaseCommand

from voc.core.jobs import periodic_jobs_sync


class Command(BaseCommand):
    help = "Write the periodic jobs declared in code into the beat schedule (also done by migrate)."

    def handle(self, *args: object, **options: object) -> None:
        for name in periodic_jobs_sync():
            self.stdout.write(f"  scheduled {name}")

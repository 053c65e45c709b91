"""``manage.py import_contacts`` that stops before one batch until it is told to go on.

    VOC_PAUSE_BEFORE_BATCH=3 VOC_PAUSE_FILE=/tmp/x python -m tests.integration.paused_import FILE …

Before writing batch 3 (batches 1 and 2 are committed) it creates ``/tmp/x`` and waits until
``/tmp/x.go`` exists, so a fault test can break something at a known point of the import
(restart PostgreSQL, say) instead of hoping a timer lands in the middle of it. The arguments
are those of ``import_contacts``.
"""

import os
import sys
import time
from pathlib import Path


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voc.settings")
    django.setup()

    from django.core.management import execute_from_command_line

    from contacts.ingest import imports

    pause_before = int(os.environ["VOC_PAUSE_BEFORE_BATCH"])
    pause_file = Path(os.environ["VOC_PAUSE_FILE"])
    go_file = Path(f"{pause_file}.go")
    ingest = imports.contacts_ingest
    calls = 0

    def contacts_ingest_with_a_pause(**kwargs):
        nonlocal calls
        calls += 1
        if calls == pause_before:
            pause_file.touch()
            deadline = time.monotonic() + 120  # an abandoned test must not leave it waiting
            while not go_file.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        return ingest(**kwargs)

    imports.contacts_ingest = contacts_ingest_with_a_pause
    execute_from_command_line(["manage.py", "import_contacts", *sys.argv[1:]])


if __name__ == "__main__":
    main()

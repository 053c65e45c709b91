"""The embedded path: migrate, import, re-import and check the rollups on a SQLite file, run as
the commands an operator types, so CI (which runs the suite on PostgreSQL) proves it too."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings

FIXTURES = Path(__file__).parent / "fixtures"
REGULATOR_MAPPING = Path(settings.BASE_DIR) / "docs" / "mappings" / "regulator-complaints.toml"


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_import_rollups_and_rebuild_on_sqlite(tmp_path):
    database = tmp_path / "smoke.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "VOC_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="voc.settings",
        DATABASE_URL=f"sqlite:///{database}",
        VOC_VAR_DIR=str(tmp_path / "var"),
    )
    complaints = Path(shutil.copy(FIXTURES / "regulator-complaints.csv", tmp_path))
    later = tmp_path / "later.csv"
    later.write_text(
        "source,external_id,channel,occurred_at,customer_email,reason,handle_seconds,text\n"
        "crm,c-1,phone,2023-03-07T15:00:00Z,pat@example.com,Credit card › Fees or interest,240,"
        "About the fee from my complaint\n"
        "crm,c-2,chat,2023-03-08T09:00:00Z,pat@example.com,Credit card › Fees or interest,,"
        "Still about the fee\n"
        "crm,c-3,chat,2023-03-08T10:00:00Z,,No such reason,,Rejected\n"
    )

    manage("migrate", "--noinput", env=env)
    first = manage(
        "import_contacts",
        str(complaints),
        "--mapping",
        str(REGULATOR_MAPPING),
        "--save-mapping",
        "regulator",
        "--no-progress",
        env=env,
    )
    again = manage(
        "import_contacts", str(complaints), "--mapping", "regulator", "--no-progress", env=env
    )
    crm = manage("import_contacts", str(later), "--no-progress", env=env)
    check = manage("rebuild_rollups", "--check", env=env)

    assert "Read 15 rows: 13 created, 0 updated, 0 unchanged, 2 rejected" in first.stdout
    assert "Read 15 rows: 0 created, 0 updated, 13 unchanged, 2 rejected" in again.stdout
    assert "Read 3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected" in crm.stdout
    assert "The daily rollups match a rebuild" in check.stdout
    assert "The weekly rollups match a rebuild" in check.stdout
    with sqlite3.connect(database) as db:
        contacts = db.execute("SELECT count(*) FROM contacts_contact").fetchone()[0]
        repeats = db.execute(
            "SELECT count(*) FROM contacts_contact WHERE repeat_of_id IS NOT NULL"
        ).fetchone()[0]
        rolled_up = db.execute(
            "SELECT sum(contacts), sum(handle_seconds), sum(repeat_contacts) "
            "FROM contacts_contactrollup"
        ).fetchone()
        runs = db.execute(
            "SELECT status, mapping_name, created, unchanged, rejected FROM contacts_importrun "
            "ORDER BY id"
        ).fetchall()
    assert contacts == 15
    assert repeats == 1  # c-2 repeats c-1, the same customer the day after
    assert rolled_up == (15, 240, 1)
    assert runs == [
        ("finished", "regulator", 13, 0, 2),
        ("finished", "regulator", 0, 13, 2),
        ("finished", "", 2, 0, 1),
    ]

# The period summaries and texts are caches rebuilt on demand (loops/digests/periods.py): on
# PostgreSQL they skip the write-ahead log, whose writing and flushing at commit cost more than
# building them. A crash empties unlogged tables, parents and rows alike, and the next digest
# builds them again; a replica does not have them, and digests are built on the primary.

from django.db import migrations

TABLES = [  # children first going to UNLOGGED (they reference their parents), parents first back
    "loops_digestperiodthread",
    "loops_digestperiod",
    "loops_digestperiodtext",
    "loops_digestperiodtexts",
]


def _set(kind, tables):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"ALTER TABLE {table} SET {kind}")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("loops", "0018_digest_period_texts"),
    ]

    operations = [
        migrations.RunPython(_set("UNLOGGED", TABLES), _set("LOGGED", list(reversed(TABLES)))),
    ]

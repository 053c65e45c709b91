"""Indexes for reading the messages of a period (the bcc digests, loops/digests/): a message's
time is its own (``sent_at``) or, without one, its contact's (``occurred_at``).

- ``message_time``: messages by ``sent_at``, carrying the contact and direction, so a period's
  dated messages are read from the index alone (an index-only scan), not from the table, whose
  rows are wide (the text and its stored tsvector);
- ``message_undated``: messages without a time of their own by contact, for the contacts of
  the period (found by ``contact_time``).

Created concurrently (the message table is the largest: no write is blocked while they
build), on PostgreSQL only, like the full-text index of 0003: SQLite reads the period with
the same query and no index.
"""

from django.db import migrations

ADD = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_time ON contacts_message "
    "(sent_at) INCLUDE (contact_id, direction)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS message_undated ON contacts_message "
    "(contact_id) INCLUDE (direction) WHERE sent_at IS NULL",
]
DROP = [
    "DROP INDEX CONCURRENTLY IF EXISTS message_undated",
    "DROP INDEX CONCURRENTLY IF EXISTS message_time",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("contacts", "0010_budget_refusal_key")]

    operations = [migrations.RunPython(_run(ADD), _run(DROP), elidable=False)]

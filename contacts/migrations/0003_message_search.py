"""Full-text search of message texts on PostgreSQL (contacts.search).

A stored generated column holds each message's English tsvector and a GIN index covers it.
Stored, so the recheck of lossy bitmap pages and the newest-first walk read a ready vector
instead of parsing the text again for every row. The Django model does not declare the column:
other databases (SQLite) have none and search there falls back to substring matching. Writers
that list their columns (the COPY writer) never name it, and PostgreSQL fills it in.
"""

from django.db import migrations

ADD = [
    "ALTER TABLE contacts_message ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english'::regconfig, coalesce(text, ''))) STORED",
    "CREATE INDEX message_search ON contacts_message USING gin (search_vector)",
]
DROP = [
    "DROP INDEX IF EXISTS message_search",
    "ALTER TABLE contacts_message DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_email_search_erasure")]

    operations = [migrations.RunPython(_run(ADD), _run(DROP), elidable=False)]

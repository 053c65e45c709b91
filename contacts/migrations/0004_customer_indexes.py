"""Three customer indexes that served no query, and cost every new customer their upkeep.

- segment: three values, so a filter on one reads a third of the table or more, which
  PostgreSQL does faster by scanning it; its ``_like`` twin served ``LIKE 'prefix%'`` on a
  choice nobody searches that way.
- external_ref's ``_like`` index, which Django adds to every unique text column on
  PostgreSQL for ``LIKE 'prefix%'``: external refs are matched whole (ingestion, the rep's
  customer lookup), through the unique index, which stays.

An import creates a customer for about every third contact, each paying one entry in every
index of the table: eight before, five now.
"""

from django.db import migrations, models

EXTERNAL_REF_LIKE = "contacts_customer_external_ref_25cdc130_like"  # as 0001 created it


def _run(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_message_search")]

    operations = [
        migrations.AlterField(
            model_name="customer",
            name="segment",
            field=models.CharField(
                choices=[
                    ("consumer", "Consumer"),
                    ("small_business", "Small business"),
                    ("enterprise", "Enterprise"),
                ],
                default="consumer",
                max_length=20,
            ),
        ),
        migrations.RunPython(
            _run(f"DROP INDEX IF EXISTS {EXTERNAL_REF_LIKE}"),
            _run(
                f"CREATE INDEX IF NOT EXISTS {EXTERNAL_REF_LIKE} "
                "ON contacts_customer (external_ref varchar_pattern_ops)"
            ),
            elidable=False,
        ),
    ]

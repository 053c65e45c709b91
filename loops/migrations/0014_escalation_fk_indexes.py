"""Drop the escalation table's three single-column foreign-key indexes.

Each is covered by an index that leads with the same column: the partial unique indexes
(issue, clock, level) and (follow_up, level), whose ``IS NOT NULL`` condition every lookup by a
value implies, and (notified, at). EXPLAIN on 65,000 rows showed every lookup (by one id, by an
IN list, the foreign keys' own checks and cascades) on the covering index; the sweep's INSERT
maintains four indexes instead of seven.

Only the indexes go: the state changes through AlterField, the database through DROP INDEX,
so the foreign-key constraints are not dropped and re-validated over the whole table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "loops_escalation_follow_up_id_2ea8656f": "follow_up_id",
    "loops_escalation_issue_id_7630f6fa": "issue_id",
    "loops_escalation_notified_id_527e97c7": "notified_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("loops", "0013_digest_periods"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="escalation",
                    name="follow_up",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="escalations",
                        to="loops.followup",
                    ),
                ),
                migrations.AlterField(
                    model_name="escalation",
                    name="issue",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="escalations",
                        to="loops.issue",
                    ),
                ),
                migrations.AlterField(
                    model_name="escalation",
                    name="notified",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "loops_escalation" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
        ),
    ]

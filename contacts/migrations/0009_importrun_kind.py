"""Import runs and saved mappings get a kind (contacts or feedback items).

Until now a feedback import's run was told apart by a ``feedback: `` prefix on its file name;
the data step gives those runs the kind ``feedback`` and their file name back. Saved mappings
were all contacts' (feedback had none), and are unique by name within their kind from now on.
"""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Concat, Left, Substr

FEEDBACK_PREFIX = "feedback: "


def runs_kind_from_prefix(apps, schema_editor):
    ImportRun = apps.get_model("contacts", "ImportRun")
    ImportRun.objects.filter(file_name__startswith=FEEDBACK_PREFIX).update(
        kind="feedback", file_name=Substr("file_name", len(FEEDBACK_PREFIX) + 1)
    )


def runs_prefix_from_kind(apps, schema_editor):
    ImportRun = apps.get_model("contacts", "ImportRun")
    ImportRun.objects.filter(kind="feedback").update(
        file_name=Left(
            Concat(Value(FEEDBACK_PREFIX), F("file_name"), output_field=models.CharField()), 500
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0008_budget_thanks"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="importmapping",
            options={"ordering": ["kind", "name"]},
        ),
        migrations.AddField(
            model_name="importmapping",
            name="kind",
            field=models.CharField(
                choices=[("contacts", "Contacts"), ("feedback", "Feedback items")],
                default="contacts",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="importrun",
            name="kind",
            field=models.CharField(
                choices=[("contacts", "Contacts"), ("feedback", "Feedback items")],
                default="contacts",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="importmapping",
            name="name",
            field=models.CharField(max_length=100),
        ),
        migrations.AddConstraint(
            model_name="importmapping",
            constraint=models.UniqueConstraint(
                fields=("kind", "name"), name="importmapping_kind_name_unique"
            ),
        ),
        migrations.RunPython(runs_kind_from_prefix, runs_prefix_from_kind),
    ]

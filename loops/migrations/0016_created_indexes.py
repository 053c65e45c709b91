# The issues' and follow-ups' creation order, for the board and the dashboard's drill-downs.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loops", "0015_digest_message_cursor"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["created_at", "id"], name="loops_follow_up_created"),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["created_at", "id"], name="loops_issue_created"),
        ),
    ]

"""Contact.customer_messages: how many of a contact's messages the customer wrote, so the
dashboards' email ping-pong (threads with three customer messages or more) reads an index of
contacts instead of grouping every message of the period.

Counted here for the contacts that have messages (one statement; on a large database it reads
every incoming message once), then the partial index of ping-pong threads is built.
"""

from django.conf import settings
from django.db import migrations, models


def count_customer_messages(apps, schema_editor):
    contacts = apps.get_model("contacts", "Contact")._meta.db_table
    messages = apps.get_model("contacts", "Message")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {contacts} SET customer_messages = (SELECT count(*) FROM {messages} m "
            f"WHERE m.contact_id = {contacts}.id AND m.direction = 'incoming') "
            f"WHERE id IN (SELECT contact_id FROM {messages} WHERE direction = 'incoming')"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0012_week_rollups'),
        ('people', '0002_user_time_zone'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='customer_messages',
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(count_customer_messages, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('channel', 'email'), ('customer_messages__gte', 3)), fields=['occurred_at', 'occurred_date_only', 'customer_messages', 'team', 'reason', 'customer_segment', 'id'], name='contact_pingpong_time'),
        ),
    ]

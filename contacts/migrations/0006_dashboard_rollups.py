"""Rollups the dashboards can use, and the contact fields they count.

- Contact.wait_seconds (the customer's time on a contact is wait + handle),
  Contact.customer_segment (the customer's segment when the contact was linked to them) and
  Contact.occurred_date_only (a day given without a time keeps its calendar day);
- ContactReason.complaint (sub-reasons inherit it; read from the reasons, not the rollups);
- ContactRollup keyed by segment too, counting handle and wait time with how many contacts
  gave one, roads, first-contact resolution and outcomes.

The new columns have constant defaults, which PostgreSQL adds without rewriting the table.
Existing contacts then take their customer's present segment (the best that is known of it),
and the rollups are rebuilt from the contacts, so ``rebuild_rollups --check`` agrees at once.
Both steps read every contact: on a large database, expect them to take minutes.
"""

from collections import defaultdict
from datetime import UTC
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models

# The rollup columns and the rule that fills them, frozen as this migration knows them.
OUTCOMES = ("resolved", "unresolved", "escalated", "transferred", "callback", "link_sent",
            "abandoned", "open")
COLUMNS = ("contacts", "handle_seconds", "handled_contacts", "wait_seconds", "waited_contacts",
           "repeat_contacts", "negative_contacts", "road_1", "road_2", "road_3", "road_4",
           "fcr_yes", "fcr_no", *(f"outcome_{outcome}" for outcome in OUTCOMES))
AT = {column: position for position, column in enumerate(COLUMNS)}


def backfill(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    ContactRollup = apps.get_model("contacts", "ContactRollup")
    contacts = Contact._meta.db_table
    customers = apps.get_model("contacts", "Customer")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {contacts} SET customer_segment = COALESCE((SELECT segment FROM {customers} "
            f"WHERE {customers}.id = {contacts}.customer_id), '') WHERE customer_id IS NOT NULL"
        )
    ContactRollup.objects.all().delete()
    tz = ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)
    negative = settings.VOC_NEGATIVE_SENTIMENT
    totals = defaultdict(lambda: [0] * len(COLUMNS))
    rows = Contact.objects.order_by().values_list(
        "occurred_at", "occurred_date_only", "reason_id", "channel", "team_id",
        "customer_segment", "handle_seconds", "wait_seconds", "repeat_of_id", "sentiment",
        "road", "first_contact_resolution", "outcome",
    )
    for (at, date_only, reason_id, channel, team_id, segment, handle, wait, repeat_of,
         sentiment, road, resolved, outcome) in rows.iterator(chunk_size=20_000):
        day = at.astimezone(UTC).date() if date_only else at.astimezone(tz).date()
        counts = totals[(day, reason_id or 0, channel, team_id or 0, segment)]
        counts[0] += 1
        if handle is not None:
            counts[AT["handle_seconds"]] += handle
            counts[AT["handled_contacts"]] += 1
        if wait is not None:
            counts[AT["wait_seconds"]] += wait
            counts[AT["waited_contacts"]] += 1
        if repeat_of:
            counts[AT["repeat_contacts"]] += 1
        if sentiment is not None and sentiment <= negative:
            counts[AT["negative_contacts"]] += 1
        if road:
            counts[AT[f"road_{road}"]] += 1
        if resolved is not None:
            counts[AT["fcr_yes" if resolved else "fcr_no"]] += 1
        if outcome:
            counts[AT[f"outcome_{outcome}"]] += 1
    ContactRollup.objects.bulk_create(
        (
            ContactRollup(
                day=day, reason_id=reason_id, channel=channel, team_id=team_id, segment=segment,
                **dict(zip(COLUMNS, counts)),
            )
            for (day, reason_id, channel, team_id, segment), counts in totals.items()
        ),
        batch_size=2000,
    )


def forget_rollups(apps, schema_editor):
    """Going back: rows split by segment would collide on the older key. They are dropped;
    ``manage.py rebuild_rollups`` on the older version makes them again."""
    apps.get_model("contacts", "ContactRollup").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0005_contact_budget'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='contactrollup',
            name='rollup_key',
        ),
        migrations.AddField(
            model_name='contact',
            name='customer_segment',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name='contact',
            name='occurred_date_only',
            field=models.BooleanField(default=False, help_text='The source gave a day without a time (a regulator\'s "Date received"): occurred_at holds noon UTC of that day, and the day counts as itself in every reporting time zone.'),
        ),
        migrations.AddField(
            model_name='contact',
            name='wait_seconds',
            field=models.PositiveIntegerField(blank=True, help_text='How long the customer waited before a person answered (queue, hold, reply).', null=True),
        ),
        migrations.AddField(
            model_name='contactreason',
            name='complaint',
            field=models.BooleanField(default=False, help_text='Contacts for this reason are complaints (its sub-reasons inherit this).'),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='fcr_no',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='fcr_yes',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='handled_contacts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_abandoned',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_callback',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_escalated',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_link_sent',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_open',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_resolved',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_transferred',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='outcome_unresolved',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='road_1',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='road_2',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='road_3',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='road_4',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='segment',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='wait_seconds',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='contactrollup',
            name='waited_contacts',
            field=models.IntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name='contactrollup',
            constraint=models.UniqueConstraint(fields=('day', 'reason_id', 'channel', 'team_id', 'segment'), name='rollup_key'),
        ),
            migrations.RunPython(backfill, forget_rollups, elidable=True),
    ]

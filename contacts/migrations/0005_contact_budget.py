"""The contact budget (contacts/budget/): its touch ledger, refusals and opt-outs, and
``Contact.outcome_set_at``, which says since when a contact is open.

The new contact column is nullable without a default, so adding it rewrites nothing: existing
and ingested contacts keep NULL, and the budget reads their occurred_at instead. The partial
index of open and callback contacts is built CONCURRENTLY on PostgreSQL (contacts is the big
table, and ingestion keeps writing meanwhile), hence a migration outside a transaction.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


OPEN_INDEX = models.Index(
    condition=models.Q(("outcome__in", ["open", "callback"])),
    fields=["customer", "occurred_at", "outcome_set_at"],
    name="contact_open_customer",
)


def _add_open_index(apps, schema_editor):
    contact = apps.get_model("contacts", "Contact")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(contact, OPEN_INDEX, concurrently=True)
    else:
        schema_editor.add_index(contact, OPEN_INDEX)


def _remove_open_index(apps, schema_editor):
    contact = apps.get_model("contacts", "Contact")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(contact, OPEN_INDEX, concurrently=True)
    else:
        schema_editor.remove_index(contact, OPEN_INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('contacts', '0004_customer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='outcome_set_at',
            field=models.DateTimeField(blank=True, help_text='When the outcome was last set; empty for ingested rows (occurred_at stands in).', null=True),
        ),
        migrations.CreateModel(
            name='BudgetOptOut',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('survey', 'Survey'), ('callback', 'Callback'), ('fix_notice', 'Fix notice'), ('outreach', 'Outreach')], max_length=12)),
                ('at', models.DateTimeField()),
                ('actor_name', models.CharField(help_text='The user or the part of VoC.', max_length=150)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.customer')),
            ],
            options={
                'verbose_name': 'budget opt-out',
                'ordering': ['customer', 'purpose'],
                'constraints': [models.UniqueConstraint(fields=('customer', 'purpose'), name='budget_opt_out_once')],
            },
        ),
        migrations.CreateModel(
            name='BudgetRefusal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('survey', 'Survey'), ('callback', 'Callback'), ('fix_notice', 'Fix notice'), ('outreach', 'Outreach')], max_length=12)),
                ('key', models.CharField(blank=True, max_length=100)),
                ('reason', models.CharField(choices=[('opted_out', 'Opted out'), ('cool_down', 'Within the cool-down'), ('contact_open', 'A contact is still open'), ('already_sent', 'Already sent for this key'), ('erased', 'Customer erased'), ('merged', 'Merged into another customer'), ('unknown', 'No such customer')], max_length=12)),
                ('at', models.DateTimeField()),
                ('actor_name', models.CharField(help_text='The user or the part of VoC.', max_length=150)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.customer')),
            ],
            options={
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['customer', 'at'], name='budget_refusal_customer')],
            },
        ),
        migrations.CreateModel(
            name='BudgetTouch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(choices=[('survey', 'Survey'), ('callback', 'Callback'), ('fix_notice', 'Fix notice'), ('outreach', 'Outreach')], max_length=12)),
                ('key', models.CharField(blank=True, max_length=100)),
                ('at', models.DateTimeField()),
                ('actor_name', models.CharField(help_text='The user or the part of VoC.', max_length=150)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('customer', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.customer')),
            ],
            options={
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['customer', 'purpose', 'at'], name='budget_touch_customer')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('purpose', 'fix_notice')), fields=('customer', 'purpose', 'key'), name='budget_fix_notice_once')],
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="contact", index=OPEN_INDEX)],
            database_operations=[
                migrations.RunPython(_add_open_index, _remove_open_index, elidable=False)
            ],
        ),
    ]

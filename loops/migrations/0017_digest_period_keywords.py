# A period summed up per keywords too, for the keyword subscriptions (loops/digests/periods.py).
# The table holds a day of summaries at most, rebuilt on demand: no data to carry over.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("loops", "0016_created_indexes"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="digestperiod", name="loops_digest_period_once"),
        migrations.AddField(
            model_name="digestperiod",
            name="keywords",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.AddConstraint(
            model_name="digestperiod",
            constraint=models.UniqueConstraint(
                fields=("start", "end", "keywords"), name="loops_digest_period_keywords_once"
            ),
        ),
    ]

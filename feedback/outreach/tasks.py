from feedback.outreach.services import outreach_lists_generate_all
from voc.core.jobs import periodic_job


@periodic_job(
    "feedback.outreach_lists",
    # Every hour (crontab times are UTC): the month turns at midnight in the reporting time
    # zone, whatever that is, and each list is made once per executive, program and month.
    crontab={"minute": "7"},
    description="Makes every executive's lost- and loyal-customer call lists for the month, "
    "once per executive, program and month, and tops up a list still short of its size.",
)
def outreach_lists() -> int:
    return outreach_lists_generate_all()

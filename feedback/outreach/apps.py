"""The outreach programs' registrations, called once from FeedbackConfig.ready(): capabilities,
business settings, audit labels, the home widget, the customer timeline, the erasure handler,
the demo seeder, the email's context and the monthly job."""

from voc.core.business import LISTENING, BusinessSetting, WholeNumber, register_business_setting

SETTINGS = (
    BusinessSetting(
        "loyal_customer_calls_per_month",
        "Loyal-customer calls per executive",
        LISTENING,
        WholeNumber(0, 100),
        5,
        help_text="The size of each executive's monthly call list of loyal customers "
        "(customers for two years or more, and promoters).",
        unit="calls a month",
    ),
    BusinessSetting(
        "lost_customer_window_days",
        "Lost recently",
        LISTENING,
        WholeNumber(1, 730),
        90,
        help_text="A customer lost within this many days may be on a lost-customer call list.",
        unit="days",
    ),
)


def outreach_ready() -> None:
    from contacts.registry import register_erasure_handler, register_timeline_provider
    from feedback.access import VIEW_OUTREACH, register_outreach_capabilities
    from feedback.outreach import tasks  # noqa: F401  (declares the periodic job)
    from feedback.outreach.demo import seed_outreach
    from feedback.outreach.home import outreach_calls_widget
    from feedback.outreach.services import AUDIT_LABELS, outreach_calls_erase
    from feedback.outreach.timeline import outreach_timeline
    from voc.core.audit import register_action_labels
    from voc.core.demo import register_demo_seeder
    from voc.core.home import HomeWidget, register_home_widget

    register_outreach_capabilities()
    for setting in SETTINGS:
        register_business_setting(setting)
    register_action_labels(AUDIT_LABELS)
    register_home_widget(
        HomeWidget(
            key="feedback.outreach",
            title="Outreach calls",
            capability=VIEW_OUTREACH,
            content=outreach_calls_widget,
            order=7,
        )
    )
    register_timeline_provider("feedback.outreach", outreach_timeline)
    register_erasure_handler("feedback.outreach_calls", outreach_calls_erase)
    register_demo_seeder("feedback.outreach", seed_outreach)

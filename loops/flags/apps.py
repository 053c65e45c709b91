"""The flags' registrations, called once from LoopsConfig.ready(): audit labels, the receivers
that keep the issues' search documents current, the periodic reindex job, the contact-page
panel, the issue-page panel, the home widget, navigation, erasure and the demo seeder."""


def flags_ready() -> None:
    from django.db.models.signals import post_delete, post_save

    from contacts.registry import (
        CONTACT_PAGE,
        PagePanel,
        register_erasure_handler,
        register_page_panel,
    )
    from loops.access import FLAG_CONTACTS, VIEW_ISSUES
    from loops.flags import tasks  # noqa: F401  (declares the reindex job)
    from loops.flags.demo import seed_flags
    from loops.flags.panel import contact_flag_panel, issue_flags_panel, my_flags_widget
    from loops.flags.receivers import on_evidence_changed, on_issue_saved
    from loops.flags.services import AUDIT_LABELS, flags_erase
    from loops.models import Issue, IssueEvidence
    from loops.registry import IssuePanel, register_issue_panel
    from voc.core.audit import register_action_labels
    from voc.core.demo import register_demo_seeder
    from voc.core.home import HomeWidget, register_home_widget
    from voc.core.navigation import USER, NavItem, register_nav_item

    register_action_labels(AUDIT_LABELS)
    post_save.connect(on_issue_saved, sender=Issue, dispatch_uid="loops.flags.issue_saved")
    post_save.connect(
        on_evidence_changed, sender=IssueEvidence, dispatch_uid="loops.flags.evidence_saved"
    )
    post_delete.connect(
        on_evidence_changed, sender=IssueEvidence, dispatch_uid="loops.flags.evidence_deleted"
    )
    register_page_panel(
        CONTACT_PAGE,
        PagePanel(
            key="loops.flags",
            title="Flag a recurring issue",
            capability=FLAG_CONTACTS,
            content=contact_flag_panel,
            order=5,  # first: one click for a rep
        ),
    )
    register_issue_panel(
        IssuePanel(
            key="loops.flags",
            title="Flags: how many a day are like this?",
            capability=VIEW_ISSUES,
            content=issue_flags_panel,
            order=20,
        )
    )
    register_home_widget(
        HomeWidget(
            key="loops.my_flags",
            title="What I flagged",
            capability=FLAG_CONTACTS,
            content=my_flags_widget,
            order=12,
        )
    )
    register_nav_item(NavItem("flags", "My flags", "loops:my-flags", FLAG_CONTACTS, 80, menu=USER))
    register_erasure_handler("loops.flags", flags_erase)
    register_demo_seeder("loops.flags", seed_flags)

"""Verification's registrations, called once from LoopsConfig.ready(): the receiver that
queues the first check when an issue is fixed, the daily job, the issue panel and the demo
seeder."""


def verification_ready() -> None:
    from loops.access import VIEW_ISSUES
    from loops.registry import IssuePanel, register_issue_panel
    from loops.signals import issue_status_changed
    from loops.verification import tasks  # noqa: F401  (declares the task and the daily job)
    from loops.verification.demo import seed_verification
    from loops.verification.panel import verification_panel
    from loops.verification.receivers import on_issue_status_changed
    from voc.core.demo import register_demo_seeder

    issue_status_changed.connect(
        on_issue_status_changed, dispatch_uid="loops.verification.on_issue_status_changed"
    )
    register_issue_panel(
        IssuePanel(
            key="loops.verification",
            title="Did the fix work?",
            capability=VIEW_ISSUES,
            content=verification_panel,
            order=30,
        )
    )
    register_demo_seeder("loops.verification", seed_verification)

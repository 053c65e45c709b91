from django.apps import AppConfig


class LoopsConfig(AppConfig):
    """Issues, rep flags, SLAs and escalation, follow-ups and bcc digests."""

    name = "loops"
    verbose_name = "Loops"

    def ready(self) -> None:
        from loops.access import register_loops_capabilities
        from loops.services.issues import AUDIT_LABELS
        from voc.core.audit import register_action_labels

        register_loops_capabilities()
        register_action_labels(AUDIT_LABELS)

        # --- follow-ups (loops/followups/): audit labels, erasure, timeline,
        # home widget, demo data
        from contacts.registry import register_erasure_handler, register_timeline_provider
        from loops.access import WORK_FOLLOW_UPS
        from loops.followups.demo import seed_follow_ups
        from loops.followups.home import follow_ups_widget
        from loops.followups.selectors import follow_up_timeline
        from loops.followups.services import AUDIT_LABELS as FOLLOW_UP_AUDIT_LABELS
        from loops.followups.services import follow_ups_erase
        from voc.core.demo import register_demo_seeder
        from voc.core.home import HomeWidget, register_home_widget

        register_action_labels(FOLLOW_UP_AUDIT_LABELS)
        register_erasure_handler("loops.follow_ups", follow_ups_erase)
        register_timeline_provider("loops.follow_ups", follow_up_timeline)
        register_home_widget(
            HomeWidget(
                key="loops.follow_ups",
                title="Call backs due",
                capability=WORK_FOLLOW_UPS,
                content=follow_ups_widget,
                order=8,
            )
        )
        register_demo_seeder("loops.follow_ups", seed_follow_ups)

        # --- the bcc program (loops/digests/): capabilities, settings, the email's builder,
        # audit labels, navigation
        from loops.access import SUBSCRIBE_DIGESTS, register_digest_capabilities
        from loops.digests.services import AUDIT_LABELS as DIGEST_AUDIT_LABELS
        from loops.digests.services import SEND_ONCE_PURPOSE, digest_email_context
        from loops.digests.settings import register_digest_settings
        from voc.core.navigation import USER, NavItem, register_nav_item
        from voc.core.sendonce import register_email_context

        register_digest_capabilities()
        register_digest_settings()
        register_action_labels(DIGEST_AUDIT_LABELS)
        register_email_context(SEND_ONCE_PURPOSE, digest_email_context)
        register_nav_item(
            NavItem("digests", "My digests", "loops:digest-list", SUBSCRIBE_DIGESTS, 85, menu=USER)
        )

        # --- the bcc program, continued: tracking, erasure, the admins' home widget, "a digest
        # of this reason" on the contact page, demo data
        from anymail.signals import tracking

        from contacts.registry import CONTACT_PAGE, PageAction, register_page_action
        from loops.access import ADMINISTER_DIGESTS
        from loops.digests.demo import seed_digests
        from loops.digests.home import digest_problems_widget
        from loops.digests.pages import reason_digest_url
        from loops.digests.services import digests_erase
        from loops.digests.tracking import digest_tracking_received

        tracking.connect(digest_tracking_received, dispatch_uid="loops.digests.tracking")
        register_erasure_handler("loops.digests", digests_erase)
        register_home_widget(
            HomeWidget(
                key="loops.digest_problems",
                title="Digest delivery problems",
                capability=ADMINISTER_DIGESTS,
                content=digest_problems_widget,
                order=90,
            )
        )
        register_page_action(
            CONTACT_PAGE,
            PageAction(
                key="loops.reason_digest",
                label="Get this reason in a digest",
                capability=SUBSCRIBE_DIGESTS,
                url=reason_digest_url,
                order=90,
            ),
        )
        register_demo_seeder("loops.digests", seed_digests)

        # --- verification: did the fix work? (docs/loops-verification.md)
        from loops.verification.apps import verification_ready

        verification_ready()
        # --- promote to issue (loops/promote/): "Promote to issue" in feedback's action slots
        # (feedback items, side-by-side notes, outreach entries) and the demo's promotions
        from loops.promote.actions import register_promote_actions
        from loops.promote.demo import seed_promotions
        from voc.core.demo import register_demo_seeder

        register_promote_actions()
        register_demo_seeder("loops.promote", seed_promotions)

        # --- the issue board and the issue page's actions (loops/issues/): "Issues" in the
        # navigation, the "Issues due" home widget, a deactivated owner's issues handed to
        # their department head, demo issues
        from django.db.models.signals import post_save

        from loops.access import MANAGE_ISSUES, VIEW_ISSUES
        from loops.issues.demo import seed_issues
        from loops.issues.home import issues_due_widget
        from loops.issues.receivers import on_user_saved
        from voc.people.models import User

        register_nav_item(NavItem("issues", "Issues", "loops:issue-board", VIEW_ISSUES, order=20))
        register_home_widget(
            HomeWidget(
                key="loops.issues_due",
                title="Issues due",
                capability=MANAGE_ISSUES,
                content=issues_due_widget,
                order=7,
            )
        )
        post_save.connect(on_user_saved, sender=User, dispatch_uid="loops.issues.handover")
        register_demo_seeder("loops.issues", seed_issues)
        # --- rep flags (loops/flags/): suggestions on the contact page, "me too" and propose,
        # the issues' search documents, what a rep flagged on their home page
        from loops.flags.apps import flags_ready

        flags_ready()
        # --- fix notices (loops/notices/): the tasks and catch-up job, the email's audit
        # labels, the issue page's panel, delivery tracking, erasure, demo data
        from loops.access import VIEW_ISSUES
        from loops.notices import tasks as notice_tasks  # noqa: F401  (declares the tasks)
        from loops.notices.demo import seed_notices
        from loops.notices.panel import notices_panel
        from loops.notices.services import AUDIT_LABELS as NOTICE_AUDIT_LABELS
        from loops.notices.services import notices_erase
        from loops.notices.tracking import notice_tracking_received
        from loops.registry import IssuePanel, register_issue_panel

        register_action_labels(NOTICE_AUDIT_LABELS)
        register_issue_panel(
            IssuePanel(
                key="loops.notices",
                title="Customers told",
                capability=VIEW_ISSUES,
                content=notices_panel,
                order=40,
            )
        )
        tracking.connect(notice_tracking_received, dispatch_uid="loops.notices.tracking")
        register_erasure_handler("loops.notices", notices_erase)
        from loops.notices.selectors import notice_timeline

        register_timeline_provider("loops.notices", notice_timeline)
        register_demo_seeder("loops.notices", seed_notices)
        # --- SLA policies, the escalation sweep and loops emails (loops/sla/,
        # loops/notifications/; docs/loops-sla.md): jobs, setting, admin, issue panel,
        # send-once builders, assignment receivers, navigation, demo
        from loops.access import EDIT_SLA, VIEW_ISSUES
        from loops.notifications import services as notification_services
        from loops.notifications import tasks as notification_tasks  # noqa: F401  (the job)
        from loops.notifications.emails import (
            assignment_email_context,
            due_email_context,
            escalation_email_context,
        )
        from loops.notifications.receivers import on_follow_up_assigned, on_issue_assigned
        from loops.registry import IssuePanel, register_issue_panel
        from loops.signals import follow_up_assigned, issue_assigned
        from loops.sla import services as sla_services
        from loops.sla import tasks as sla_tasks  # noqa: F401  (declares the sweep's job)
        from loops.sla.admin import register_sla_admin
        from loops.sla.demo import seed_escalations
        from loops.sla.panel import sla_panel
        from loops.sla.settings import register_sla_settings
        from voc.core.navigation import SETTINGS

        register_sla_settings()
        register_sla_admin()
        register_action_labels(sla_services.AUDIT_LABELS)
        register_action_labels(notification_services.AUDIT_LABELS)
        register_email_context(sla_services.ESCALATION_PURPOSE, escalation_email_context)
        register_email_context(notification_services.ASSIGNMENT_PURPOSE, assignment_email_context)
        register_email_context(notification_services.DUE_PURPOSE, due_email_context)
        issue_assigned.connect(on_issue_assigned, dispatch_uid="loops.notifications.assigned")
        follow_up_assigned.connect(
            on_follow_up_assigned, dispatch_uid="loops.notifications.follow_up_assigned"
        )
        register_issue_panel(
            IssuePanel(
                key="loops.sla",
                title="Deadlines and escalations",
                capability=VIEW_ISSUES,
                content=sla_panel,
                order=10,
            )
        )
        register_nav_item(
            NavItem("sla", "SLA policies", "loops:sla-policies", EDIT_SLA, 206, menu=SETTINGS)
        )
        register_nav_item(
            NavItem(
                "notifications",
                "My loops emails",
                "loops:notifications",
                VIEW_ISSUES,
                86,
                menu=USER,
            )
        )
        register_demo_seeder("loops.sla", seed_escalations)
        # --- home pages (loops/sla/home.py, loops/notices/home.py): a manager's SLA breaches
        # and notices to approve, the escalations that reached anyone
        from loops.access import MANAGE_ISSUES, SEND_NOTICES
        from loops.notices.home import notices_to_approve_widget
        from loops.sla.home import escalations_widget, sla_breaches_widget

        register_home_widget(
            HomeWidget(
                key="loops.sla_breaches",
                title="SLA breaches in my departments",
                capability=MANAGE_ISSUES,
                content=sla_breaches_widget,
                order=7,
            )
        )
        register_home_widget(
            HomeWidget(
                key="loops.escalations",
                title="Escalated to me",
                capability=VIEW_ISSUES,
                content=escalations_widget,
                order=3,
            )
        )
        register_home_widget(
            HomeWidget(
                key="loops.notices_to_approve",
                title="Fix notices to approve",
                capability=SEND_NOTICES,
                content=notices_to_approve_widget,
                order=4,
            )
        )

from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """Customers and their contacts: where every customer voice enters VoC."""

    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts import selectors  # registers the contacts timeline provider
        from contacts.demo import seed_customers
        from voc.core.demo import register_demo_seeder

        register_demo_seeder("contacts", seed_customers)

        from contacts.changes import AUDIT_LABELS
        from voc.core.audit import register_action_labels

        register_action_labels(AUDIT_LABELS)
        register_action_labels({selectors.CUSTOMER_LOOKUP: "found the customer by an exact match"})

        from contacts.access import VIEW_CONTACTS, register_contact_capabilities
        from voc.core.navigation import NavItem, NavSearch, register_nav_item, register_nav_search

        register_contact_capabilities()
        register_nav_item(
            NavItem("contacts", "Contacts", "contacts:contact-list", VIEW_CONTACTS, order=10)
        )
        register_nav_item(
            NavItem("customers", "Customers", "contacts:customer-search", VIEW_CONTACTS, order=11)
        )
        # One box in the bar finds customers and messages (the search page's filters narrow it).
        register_nav_search(
            NavSearch(
                "contacts:message-search",
                VIEW_CONTACTS,
                "Search customers and messages",
                "Search customers, messages",
            )
        )

        from contacts.access import LOG_CONTACTS
        from contacts.home import call_worklist_widget, callbacks_widget, repeat_contacts_widget
        from voc.core.home import HomeWidget, register_home_widget

        register_home_widget(
            HomeWidget(
                key="contacts.repeats",
                title="Repeat contacts",
                capability=VIEW_CONTACTS,
                content=repeat_contacts_widget,
                order=10,
            )
        )
        # The worklist is for those who call: reps, managers and admins, not executives.
        register_home_widget(
            HomeWidget(
                key="contacts.calls",
                title="Call these customers",
                capability=LOG_CONTACTS,
                content=call_worklist_widget,
                order=5,
            )
        )
        register_home_widget(
            HomeWidget(
                key="contacts.callbacks",
                title="Callbacks I promised",
                capability=LOG_CONTACTS,
                content=callbacks_widget,
                order=4,
            )
        )

        from contacts.inbound import receivers  # noqa: F401  (anymail's inbound signal)
        from contacts.inbound.access import VIEW_INBOUND, register_inbound_capabilities

        register_inbound_capabilities()
        register_nav_item(NavItem("inbound", "Inbound", "inbound:ops", VIEW_INBOUND, 202))

        # Make it right (contacts/gestures/): goodwill gestures, their approvals and report.
        from contacts.gestures import panels as gesture_panels
        from contacts.gestures.access import DECIDE_GESTURES, register_gesture_capabilities
        from contacts.gestures.demo import seed_gestures
        from contacts.gestures.services import AUDIT_LABELS as GESTURE_AUDIT_LABELS
        from contacts.gestures.services import gesture_notes_erase
        from contacts.registry import (
            CONTACT_PAGE,
            PagePanel,
            register_erasure_handler,
            register_page_panel,
            register_timeline_provider,
        )

        register_gesture_capabilities()
        register_action_labels(GESTURE_AUDIT_LABELS)
        register_page_panel(
            CONTACT_PAGE,
            PagePanel(
                key=gesture_panels.GESTURE_PANEL,
                title="Make it right",
                capability=VIEW_CONTACTS,
                content=gesture_panels.contact_gestures_panel,
                order=10,
            ),
        )
        register_home_widget(
            HomeWidget(
                key="contacts.gestures_waiting",
                title="Gestures waiting for you",
                capability=DECIDE_GESTURES,
                content=gesture_panels.waiting_gestures_widget,
                order=4,
            )
        )
        register_timeline_provider("contacts.gestures", gesture_panels.gesture_timeline)
        register_erasure_handler("contacts.gestures", gesture_notes_erase)
        register_demo_seeder("contacts.gestures", seed_gestures)

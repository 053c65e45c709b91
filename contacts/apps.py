from django.apps import AppConfig


class ContactsConfig(AppConfig):
    """Customers and their contacts: where every customer voice enters VoC."""

    name = "contacts"
    verbose_name = "Contacts"

    def ready(self) -> None:
        from contacts.demo import seed_customers
        from voc.core.demo import register_demo_seeder

        register_demo_seeder("contacts", seed_customers)

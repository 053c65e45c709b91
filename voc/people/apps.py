from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Users, roles, teams, departments and who may see what. Every app imports it; it imports
    no app but voc.core."""

    name = "voc.people"
    label = "people"
    verbose_name = "People"

    def ready(self) -> None:
        from voc.core.demo import register_demo_seeder
        from voc.people.demo import seed_people

        register_demo_seeder("people", seed_people)

        from voc.people.access import grant_platform_capabilities

        grant_platform_capabilities()

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Cross-app pages: they read other apps' selectors and own no data."""

    name = "voc.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"

from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Cross-app pages: they read other apps' selectors and own no data."""

    name = "voc.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        from voc.core.home import HomeWidget, register_home_widget
        from voc.core.navigation import NavItem, register_nav_item
        from voc.dashboards.access import VIEW_DASHBOARD, register_dashboard_capabilities
        from voc.dashboards.home import dashboard_summary_widget

        register_dashboard_capabilities()
        register_nav_item(
            NavItem("dashboard", "Dashboard", "dashboards:executive", VIEW_DASHBOARD, 5)
        )
        register_home_widget(
            HomeWidget(
                key="dashboards.summary",
                title="This month at a glance",
                capability=VIEW_DASHBOARD,
                content=dashboard_summary_widget,
                order=1,
            )
        )

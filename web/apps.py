from django.apps import AppConfig


class WebConfig(AppConfig):
    """Admin, pages and the JSON API: reads through selectors, writes through services; no
    models of its own."""

    name = "web"

    def ready(self) -> None:
        # Every process forgets cached tokens when one is revoked, API requests served or not.
        from web.api import tokens  # noqa: F401

from django.apps import AppConfig


class WebConfig(AppConfig):
    """Admin, pages and the JSON API: reads through selectors, writes through services; no
    models of its own."""

    name = "web"

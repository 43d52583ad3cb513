import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segrec_site.settings")

app = Celery("segrec_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _embedded_broker_folders() -> None:
    # The file-system broker (the laptop default) needs its folders before the first message.
    from django.conf import settings

    if getattr(settings, "SEGREC_EMBEDDED_BROKER", False):
        for folder in ("processed", "control"):
            (settings.BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)


_embedded_broker_folders()

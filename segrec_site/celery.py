import os
from typing import TYPE_CHECKING

from celery import Celery, signals

if TYPE_CHECKING:
    from segments.services.sweep import RunSweeper

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
_sweeper: "RunSweeper | None" = None


@signals.worker_ready.connect
def _start_run_sweeper(**_: object) -> None:
    # Each worker sweeps when it starts (a broker restart may have lost queued runs) and
    # then periodically: see segments.services.sweep.
    from segments.services.sweep import RunSweeper

    global _sweeper
    _sweeper = RunSweeper().start()


@signals.worker_shutdown.connect
def _stop_run_sweeper(**_: object) -> None:
    global _sweeper
    if _sweeper is not None:
        _sweeper.stop()
        _sweeper = None

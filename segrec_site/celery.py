import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segrec_site.settings")

app = Celery("segrec_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

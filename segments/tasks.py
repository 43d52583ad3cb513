from celery import shared_task

from segments.services.pipeline import segmentation_run_execute


@shared_task(name="segments.execute_run", acks_late=True)
def segmentation_run_execute_task(run_id: int) -> None:
    segmentation_run_execute(run_id=run_id)

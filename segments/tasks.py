from celery import shared_task

from segments.services.embeddings import chunk_embed
from segments.services.evaluation import evaluation_run_job
from segments.services.pipeline import segmentation_run_execute


@shared_task(name="segments.execute_run", acks_late=True)
def segmentation_run_execute_task(run_id: int) -> None:
    segmentation_run_execute(run_id=run_id)


@shared_task(name="segments.embed_chunk", acks_late=True)
def embed_chunk_task(model_name: str, texts: list[str]) -> None:
    chunk_embed(model_name=model_name, texts=texts, wait=False)


@shared_task(name="segments.evaluate_run", acks_late=True)
def evaluation_run_task(run_id: int, split: str) -> None:
    evaluation_run_job(run_id=run_id, split=split)

from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        # Connects the cached active run id's invalidation in every process (the worker
        # activates runs but never reads the selectors otherwise).
        import segments.selectors  # noqa: F401
        from segments.models import SegmentationRun
        from segments.services.controls import refuse_deleting_the_active_run

        pre_delete.connect(
            refuse_deleting_the_active_run,
            sender=SegmentationRun,
            dispatch_uid="segments.refuse_deleting_the_active_run",
        )

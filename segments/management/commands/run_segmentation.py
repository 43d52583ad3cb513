import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from segments.models import RunStatus, SegmentationRun
from segments.params import ALGORITHMS, FEATURE_BLOCKS, RECOMMENDERS, SERVE_CHOICES, InvalidParams
from segments.services.lifecycle import runs_execute_in_process
from segments.services.pipeline import segmentation_run_execute
from segments.services.start import BrokerUnavailable, segmentation_run_create
from segments.services.sweep import segmentation_runs_sweep

POLL_SECONDS = 1.0
SWEEP_SECONDS = 10.0


class Command(BaseCommand):
    help = (
        "Segment the members and rebuild their recommendations; waits for the run and exits "
        "non-zero if it fails. Runs in this process when no broker is configured, otherwise "
        "through the Celery worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--k", default="8", help="number of segments, or 'auto' (default 8)")
        parser.add_argument("--algorithm", default=None, choices=ALGORITHMS)
        parser.add_argument("--recommender", default=None, choices=RECOMMENDERS)
        parser.add_argument("--top-k", type=int, default=None, help="list length (default 20)")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--min-ratings", type=int, default=None)
        parser.add_argument(
            "--weights",
            default=None,
            help=f"feature block weights, e.g. history=1,profile=0.5 (blocks: {', '.join(FEATURE_BLOCKS)})",
        )
        parser.add_argument(
            "--serve",
            default=None,
            choices=SERVE_CHOICES,
            help="auto (default): served if not worse than the served run on validation; "
            "always; review: wait for Promote",
        )
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")

    def handle(self, *args: Any, **options: Any) -> None:
        params = _params(options)
        in_process = runs_execute_in_process() and not options["no_wait"]
        self._last_sweep = time.monotonic()
        segmentation_runs_sweep()  # runs an earlier crash left behind
        try:
            run = segmentation_run_create(params=params, enqueue=not in_process)
        except InvalidParams as exc:
            raise CommandError(str(exc)) from exc
        except BrokerUnavailable as exc:
            self.stderr.write(str(exc))
            run = exc.run
        self.stdout.write(f"run {run.pk} queued ({'in this process' if in_process else 'worker'})")
        if options["no_wait"]:
            return
        if in_process:
            segmentation_run_execute(run_id=run.pk, listener=self._print_stage)
        else:
            self._wait(run.pk)
        self._report(SegmentationRun.objects.get(pk=run.pk))

    def _print_stage(self, stage: str, progress: float) -> None:
        self.stdout.write(f"  {progress:4.0%}  {stage}")
        self.stdout.flush()  # live when piped (a log, CI, bench/scale_e2e.py timing stages)

    def _wait(self, run_id: int) -> None:
        """Follow the run until it ends; the sweep runs here too, so a run whose worker died
        is queued again or failed even when no worker is left to notice."""
        last = None
        started = time.monotonic()
        warned = False
        attempts = 0
        while True:
            run = SegmentationRun.objects.get(pk=run_id)
            if (run.status, run.stage) != last and run.stage:
                self._print_stage(run.stage or run.status, run.progress)
                last = (run.status, run.stage)
            if run.is_finished:
                return
            if attempts and run.attempts > attempts:
                self.stdout.write(
                    f"  attempt {attempts} lost its worker; attempt {run.attempts} of "
                    f"{settings.SEGREC_RUN_MAX_ATTEMPTS} started"
                )
            attempts = max(attempts, run.attempts)
            if run.status == RunStatus.QUEUED and not warned and time.monotonic() - started > 15:
                self.stdout.write("  still queued: is a worker running? (make worker)")
                warned = True
            time.sleep(POLL_SECONDS)
            if time.monotonic() - self._last_sweep > SWEEP_SECONDS:
                segmentation_runs_sweep()
                self._last_sweep = time.monotonic()

    def _report(self, run: SegmentationRun) -> None:
        self.stdout.write(
            "stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in run.timings.items())
        )
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")
        hidden = {"recipe", "k_sweep", "serving"}
        for key, value in run.metrics.items():
            if key not in hidden:
                self.stdout.write(f"  {key}: {value}")
        reason = run.metrics.get("serving", {}).get("reason", "")
        if run.is_active:
            self.stdout.write(
                self.style.SUCCESS(f"run {run.pk} succeeded and is served ({reason})")
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"run {run.pk} succeeded but is not served: {reason}. Promote it in the "
                    "admin, or run again with --serve always"
                )
            )


def _params(options: dict[str, Any]) -> dict[str, Any]:
    k = options["k"]
    params: dict[str, Any] = {
        "k": k if k == "auto" else _int(k, "--k"),
        "algorithm": options["algorithm"],
    }
    for name in ("recommender", "top_k", "seed", "min_ratings", "serve"):
        if options[name] is not None:
            params[name] = options[name]
    if options["weights"]:
        params["feature_weights"] = _weights(options["weights"])
    return params


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise CommandError(f"{name}: expected an integer or 'auto', got {value!r}") from exc


def _weights(text: str) -> dict[str, float]:
    weights = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError as exc:
            raise CommandError(f"--weights: {part!r} is not NAME=NUMBER") from exc
    return weights

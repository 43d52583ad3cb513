"""What a run does when its worker, its broker or its database fails under it.

Real worker processes on the test database, each test with its own throw-away Redis; the
life cycle is shortened (3 s leases) so a lost worker is noticed in seconds. A test that
acts on a run in a given stage holds it there by locking the table the stage touches first
(a stage of the test slice can last 45 ms: polling for it missed it on a fast machine).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import Member
from segments.models import (
    EmbeddingCache,
    Membership,
    RecommendationList,
    RunStatus,
    Segment,
    SegmentationRun,
)
from segments.services.controls import segmentation_run_cancel
from tests.support.processes import (
    ROOT,
    Redis,
    Worker,
    app_env,
    manage,
    table_locked,
    terminate_other_connections,
    wait_for,
)
from tests.support.slices import write_slice

pytestmark = pytest.mark.services
K = 3
RUN_ARGS = ("run_segmentation", "--k", str(K), "--top-k", "10")
# A run of the slice takes seconds; a retried one, its worker's start-up and a lapsed lease
# more. Generous bounds: the machine is shared.
FINISH_WITHIN = 180
# The table each stage touches first, where a locked table holds the run.
STAGE_TABLES = {
    "embed_items": EmbeddingCache._meta.db_table,
    "write_segments": Segment._meta.db_table,
    "recommend": RecommendationList._meta.db_table,
}


@pytest.fixture
def imported(ml100k_dir: Path, tmp_path: Path, transactional_db: None) -> None:
    call_command("import_movielens", str(write_slice(ml100k_dir, tmp_path / "slice")))


@pytest.fixture
def redis() -> Iterator[Redis]:
    server = Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(env: dict[str, str], pool: str = "solo") -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(started)}.log", pool=pool)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def queue_run(env: dict[str, str]) -> int:
    done = manage(env, *RUN_ARGS, "--no-wait")
    assert done.returncode == 0, done.stderr
    match = re.search(r"run (\d+) queued", done.stdout)
    assert match, done.stdout
    return int(match.group(1))


def reached(run_id: int, stage: str, attempt: int) -> SegmentationRun | None:
    run = SegmentationRun.objects.get(pk=run_id)
    return run if (run.attempts, run.stage) == (attempt, stage) else None


def queue_run_held_at(held: ExitStack, env: dict[str, str], stage: str) -> int:
    """Queue a run and return its id once attempt 1 waits in ``stage``, where it stays until
    ``held`` closes. Later stages' tables are locked only once the run is embedding: each
    attempt starts by clearing its rows from them."""
    if stage == "embed_items":
        held.enter_context(table_locked(STAGE_TABLES[stage]))
        run_id = queue_run(env)
    else:
        with table_locked(STAGE_TABLES["embed_items"]):
            run_id = queue_run(env)
            wait_for(lambda: reached(run_id, "embed_items", 1), timeout=120, what="embedding")
            held.enter_context(table_locked(STAGE_TABLES[stage]))
    wait_for(lambda: reached(run_id, stage, 1), timeout=FINISH_WITHIN, what=f"stage {stage}")
    return run_id


def finished(run_id: int) -> SegmentationRun | None:
    run = SegmentationRun.objects.get(pk=run_id)
    return run if run.is_finished else None


def wait_for_run(
    run_id: int,
    condition: Callable[[], SegmentationRun | None],
    *workers: Worker,
    what: str,
    timeout: float = FINISH_WITHIN,
) -> SegmentationRun:
    """``wait_for`` a run's state; a timeout shows the run's row and the workers' output."""
    try:
        return wait_for(condition, timeout=timeout, what=what)
    except AssertionError as exc:
        logs = "\n".join(w.output()[-3000:] for w in workers)
        state = SegmentationRun.objects.get(pk=run_id).to_dict()
        raise AssertionError(f"{exc}\n{state}\n{logs}") from None


def wait_finished(run_id: int, *workers: Worker) -> SegmentationRun:
    return wait_for_run(run_id, lambda: finished(run_id), *workers, what=f"run {run_id}")


def assert_one_set_of_rows(run: SegmentationRun) -> None:
    members = Member.objects.count()
    assert Segment.objects.filter(run=run).count() == K
    assert Membership.objects.filter(run=run).count() == members
    assert RecommendationList.objects.filter(run=run).count() == members


def assert_no_rows(run: SegmentationRun) -> None:
    assert not Segment.objects.filter(run=run).exists()
    assert not Membership.objects.filter(run=run).exists()
    assert not RecommendationList.objects.filter(run=run).exists()


@pytest.mark.parametrize(
    ("pool", "stage"),
    [("prefork", "embed_items"), ("solo", "write_segments"), ("prefork", "recommend")],
)
def test_a_worker_killed_mid_run_is_replaced_and_the_run_succeeds_once(
    imported: None, redis: Redis, start_worker: Callable[..., Worker], pool: str, stage: str
) -> None:
    env = app_env(redis.url)
    worker = start_worker(env, pool)
    with ExitStack() as held:
        run_id = queue_run_held_at(held, env, stage)
        victim = worker.child_pid() if pool == "prefork" else worker.process.pid
        os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    survivors = [worker]
    if pool == "solo":  # the whole worker died: its supervisor starts another
        worker.process.wait(timeout=30)
        survivors.append(start_worker(env, pool))
    run = wait_finished(run_id, *survivors)
    print(f"{pool} killed in {stage}: run {run.status} {time.monotonic() - killed_at:.1f} s later")

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.attempts == 2 and run.is_active
    assert_one_set_of_rows(run)


def test_a_run_that_kills_its_worker_twice_fails_and_the_waiting_command_says_so(
    imported: None, redis: Redis, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    env = app_env(redis.url)
    worker = start_worker(env, "prefork")
    with table_locked(STAGE_TABLES["embed_items"]):  # each attempt waits there to be killed
        waiting = subprocess.Popen(
            [sys.executable, "manage.py", *RUN_ARGS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        run_id = wait_for(
            lambda: SegmentationRun.objects.values_list("pk", flat=True).first(),
            timeout=60,
            what="the run",
        )
        for attempt in (1, 2):
            wait_for_run(
                run_id,
                lambda n=attempt: reached(run_id, "embed_items", n),
                worker,
                what=f"attempt {attempt}",
                timeout=120,
            )
            os.kill(worker.child_pid(), signal.SIGKILL)
            killed_at = time.monotonic()
    out, err = waiting.communicate(timeout=FINISH_WITHIN)
    print(f"killed twice: command exited {time.monotonic() - killed_at:.1f} s after the 2nd kill")
    run = SegmentationRun.objects.get(pk=run_id)

    assert run.status == RunStatus.FAILED and run.attempts == 2
    assert "attempt 2 of 2" in run.error and "'embed_items'" in run.error
    assert waiting.returncode != 0
    assert (
        f"run {run_id} failed" in err and "attempt 1 lost its worker; attempt 2 of 2 started" in out
    )
    assert_no_rows(run)


def test_a_redis_restart_loses_no_run_queued_running_or_started_while_it_is_down(
    imported: None, redis: Redis, start_worker: Callable[..., Worker]
) -> None:
    env = app_env(redis.url)
    worker = start_worker(env)
    with ExitStack() as held:  # the first run embeds until Redis is back
        running = queue_run_held_at(held, env, "embed_items")
        queued = queue_run(env)  # waits in Redis behind the running one

        redis.stop()  # the queued run's message is gone with it
        outage = manage(env, *RUN_ARGS, "--no-wait")
        redis.start()
    back_at = time.monotonic()

    assert outage.returncode == 0 and "will start when the job broker" in outage.stderr
    started_in_outage = int(re.search(r"run (\d+) queued", outage.stdout).group(1))
    runs = [wait_finished(pk, worker) for pk in (running, queued, started_in_outage)]
    print(f"redis restarted: all three runs ended {time.monotonic() - back_at:.1f} s later")
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 3, [r.error for r in runs]
    for run in runs:
        assert_one_set_of_rows(run)
    assert SegmentationRun.objects.get(is_active=True).pk == started_in_outage


def test_postgres_dropping_the_workers_connections_mid_run_fails_the_run_on_record(
    imported: None, redis: Redis, start_worker: Callable[..., Worker]
) -> None:
    env = app_env(redis.url)
    worker = start_worker(env)
    with ExitStack() as held:
        run_id = queue_run_held_at(held, env, "write_segments")
        terminated = terminate_other_connections()  # the worker's and the lock's
    dropped_at = time.monotonic()
    run = wait_finished(run_id, worker)
    print(f"connections dropped: run {run.status} {time.monotonic() - dropped_at:.1f} s later")

    assert terminated >= 2  # more than the lock's own connection
    assert run.status == RunStatus.FAILED
    assert "terminat" in run.error.lower() or "connection" in run.error.lower(), run.error
    assert_no_rows(run)
    # The worker reconnects: the next run succeeds.
    retry = wait_finished(queue_run(env), worker)
    assert retry.status == RunStatus.SUCCEEDED, retry.error


def test_a_run_cancelled_mid_run_stops_and_leaves_no_rows(
    imported: None, redis: Redis, start_worker: Callable[..., Worker]
) -> None:
    env = app_env(redis.url)
    worker = start_worker(env)
    with ExitStack() as held:
        run_id = queue_run_held_at(held, env, "write_segments")
        segmentation_run_cancel(run_id=run_id)
    cancelled_at = time.monotonic()

    # The worker notices at its next progress report and removes what it wrote.
    def stopped_and_cleaned() -> bool:
        return "stops, the run is cancelled" in worker.output() and not (
            Segment.objects.filter(run_id=run_id).exists()
            or RecommendationList.objects.filter(run_id=run_id).exists()
        )

    wait_for(stopped_and_cleaned, timeout=60, what="the worker to stop and clean up")
    print(f"cancelled mid-run: worker stopped {time.monotonic() - cancelled_at:.1f} s later")

    run = SegmentationRun.objects.get(pk=run_id)
    assert run.status == RunStatus.CANCELLED and not run.is_active
    assert_no_rows(run)
    retry = wait_finished(queue_run(env), worker)
    assert retry.status == RunStatus.SUCCEEDED, retry.error

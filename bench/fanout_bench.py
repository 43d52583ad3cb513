"""Embedding fanned out over real Celery workers: 2 workers against 1 (issue 10.5).

Two `celery worker` processes (solo pool, one task at a time, torch on one thread per
chunk) run on a scratch PostgreSQL and Redis db. Worker A consumes the queues "fanout_one"
and "fanout_two", worker B only "fanout_two", so sending the chunk tasks to one queue or
the other measures one worker or two with both warm (model loaded). Rounds alternate
(1 2 1 2 ...), each on fresh texts so nothing is cached; this process only dispatches and
waits (``texts_embed_fanned`` without an encoder).

    flock /tmp/segrec-bench.lock .venv/bin/python bench/fanout_bench.py \
        [--texts 2048] [--rounds 4] [--database-url postgres://...] [--broker redis://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from write_bench import ROOT, django_scratch

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/segrec_bench_fanout"
DEFAULT_BROKER = "redis://127.0.0.1:6379/7"
TARGET = 1.8  # "about twice as fast"


def _worker(name: str, queues: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "segrec_site", "worker", "--pool=solo"]
    command += ["--concurrency=1", f"--queues={queues}", f"--hostname={name}-{os.getpid()}@%h"]
    command += ["--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=-2)


def _texts(tag: str, n: int) -> list[str]:
    # Shaped like item texts, varied in length; the tag keeps every round uncached.
    return [
        f"Film {i} of {tag} ({1950 + i % 70}). Genres: Drama, Crime. "
        + "A detective follows a trail through the city at night. " * (1 + i % 4)
        for i in range(n)
    ]


def _timed(queue: str, texts: list[str], chunk: int) -> float:
    from django.conf import settings

    from segments.services.embeddings import texts_embed_fanned

    started = time.perf_counter()
    texts_embed_fanned(
        model_name=settings.SEGREC_TEXT_MODEL, texts=texts, queue=queue, chunk_texts=chunk
    )
    return time.perf_counter() - started


def fanout_section(
    *,
    n_texts: int = 2048,
    rounds: int = 4,
    url: str = DEFAULT_URL,
    broker: str = DEFAULT_BROKER,
) -> list[str]:
    os.environ["CELERY_BROKER_URL"] = broker
    django_scratch(url)
    from django.conf import settings
    from django.db import connection

    if settings.CELERY_BROKER_URL != broker:  # Django was set up before this section ran
        raise RuntimeError(f"run fanout_section before Django is set up, or with {broker=}")

    from segments.services.embeddings import CHUNK_TEXTS, CHUNK_TORCH_THREADS
    from segrec_site.celery import app

    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
    }
    app.control.purge()
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    workers = [
        _worker("fanout-a", "fanout_one,fanout_two", env, logs / "fanout-a.log"),
        _worker("fanout-b", "fanout_two", env, logs / "fanout-b.log"),
    ]
    try:
        _timed("fanout_one", _texts(f"warm {time.time()}", 64), 32)  # A loads its model
        _timed("fanout_two", _texts(f"warm2 {time.time()}", 256), 32)  # and B
        times: dict[str, list[float]] = {"fanout_one": [], "fanout_two": []}
        for r in range(rounds):
            for queue in times:
                texts = _texts(f"{queue} {r} {time.time()}", n_texts)
                times[queue].append(_timed(queue, texts, CHUNK_TEXTS))
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    ceiling = _bare_ceiling(n_texts, CHUNK_TORCH_THREADS)
    one, two = min(times["fanout_one"]), min(times["fanout_two"])
    speedups = [a / b for a, b in zip(times["fanout_one"], times["fanout_two"], strict=True)]
    # Judged on the median round: each round times 1 and 2 workers back to back, so a busy
    # spell slows both alike (as the encoder's precision benchmark does).
    median = statistics.median(speedups)
    status = "met" if median >= TARGET else "NOT met"
    return [
        "## Embedding fanned out over Celery workers: 2 workers against 1 (issue 10.5)",
        "",
        f"{n_texts} fresh texts a round in chunk tasks of {CHUNK_TEXTS}, torch on "
        f"{CHUNK_TORCH_THREADS} thread per chunk, `celery worker --pool=solo --concurrency=1`"
        f" processes, {os.cpu_count()} CPUs, {rounds} alternating rounds (best of each below;"
        " the target is judged on the median round's ratio):",
        "",
        "```",
        f"1 worker   {one:7.2f} s  {n_texts / one:7.1f} texts/s",
        f"2 workers  {two:7.2f} s  {n_texts / two:7.1f} texts/s",
        f"best/best  {one / two:7.2f}x",
        f"per round  {' '.join(f'{s:.2f}x' for s in speedups)}",
        f"speed-up   {median:7.2f}x  median round; target about 2x (>= {TARGET}x): {status}",
        f"ceiling    {ceiling:7.2f}x  two bare processes / one, the same texts, no Celery",
        "```",
        "",
        "The ceiling row, timed once, is what this machine gives two processes embedding at",
        "once without Celery or a database; one timing moves as much as the rounds do.",
        "",
    ]


_BARE = """
import sys, time
import torch
from ml.text.encoder import TextEncoder
torch.set_num_threads(int(sys.argv[3]))
texts = [line for line in open(sys.argv[1]).read().split("\\n") if line]
encoder = TextEncoder(model_name=sys.argv[2])
encoder.encode(texts[:64])  # load and warm up
print("ready", flush=True)
sys.stdin.readline()
started = time.perf_counter()
encoder.encode(texts)
print(time.perf_counter() - started, flush=True)
"""


def _bare_ceiling(n_texts: int, threads: int) -> float:
    """Speed-up of two plain processes over one embedding the same texts (half each), both
    started and warmed up before the clock starts."""
    import tempfile

    from django.conf import settings

    def wall(parts: list[list[str]]) -> float:
        with tempfile.TemporaryDirectory() as folder:
            processes = []
            for n, part in enumerate(parts):
                path = Path(folder) / f"{n}.txt"
                path.write_text("\n".join(part))
                argv = [sys.executable, "-c", _BARE, str(path), settings.SEGREC_TEXT_MODEL]
                processes.append(
                    subprocess.Popen(
                        [*argv, str(threads)],
                        cwd=ROOT,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            for process in processes:
                assert process.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
            started = time.perf_counter()
            for process in processes:
                process.stdin.write("go\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            for process in processes:
                process.communicate()
            return time.perf_counter() - started

    texts = _texts(f"bare {time.time()}", n_texts)
    one = wall([texts])
    two = wall([texts[: n_texts // 2], texts[n_texts // 2 :]])
    return one / two


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--database-url", default=os.environ.get("SEGREC_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--broker", default=os.environ.get("SEGREC_BENCH_BROKER", DEFAULT_BROKER))
    args = parser.parse_args()
    lines = fanout_section(
        n_texts=args.texts, rounds=args.rounds, url=args.database_url, broker=args.broker
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

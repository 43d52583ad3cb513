"""The whole product at scale on PostgreSQL: import the CSVs, run a segmentation, time it.

    .venv/bin/python bench/scale_e2e.py --data var/scale/1m [--k 8] [--out bench/SCALE.md]

Makes the data with bench/scale_data.py first. Creates a scratch database (``--database``,
dropped and recreated), imports with `manage.py import_csv` and runs `manage.py
run_segmentation` in-process (no broker: the embedded defaults but PostgreSQL), each as a
child process. Each stage's wall time comes from the run's own stage lines, its peak RSS
from sampling the child's /proc status every half second (VmHWM for the whole child).
Writes a Markdown table to ``--out``; `make bench` copies that file into RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
STAGE_LINE = re.compile(r"^\s+\d+%\s+(\S+)\s*$")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


class Monitored:
    """A child process whose stdout lines name stages; per stage, time and peak RSS."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.stages: list[list] = []  # [name, seconds, peak MB]
        self.peak_mb = 0.0

    def run(self, first_stage: str) -> int:
        started = time.perf_counter()
        process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        current = [first_stage, started, 0.0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                current[2] = max(current[2], rss_mb(process.pid))
                self.peak_mb = max(self.peak_mb, rss_mb(process.pid, "VmHWM"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        assert process.stdout is not None
        with self.log.open("a") as log:
            for line in process.stdout:
                log.write(f"{time.perf_counter() - started:8.1f} {line}")
                log.flush()
                print(line, end="", flush=True)
                match = STAGE_LINE.match(line)
                if match and match.group(1) != current[0]:
                    now = time.perf_counter()
                    self.stages.append([current[0], now - current[1], current[2]])
                    current[:] = [match.group(1), now, rss_mb(process.pid)]
        code = process.wait()
        done.set()
        sampler.join()
        self.stages.append([current[0], time.perf_counter() - current[1], current[2]])
        return code


def database_reset(url_base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{url_base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--k", default="8")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="segrec_scale")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "SCALE.md")
    parser.add_argument("--skip-import", action="store_true", help="reuse the database")
    parser.add_argument("--skip-run", action="store_true", help="import only")
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": f"{args.server}/{args.database}",
        "DJANGO_SETTINGS_MODULE": "segrec_site.settings",
        "PYTHONUNBUFFERED": "1",  # stage lines must arrive when they happen: they time stages
    }
    env.pop("CELERY_BROKER_URL", None)  # in-process run
    log = args.out.with_suffix(".log")
    with log.open("a") as handle:  # every attempt's lines are kept, each under a header
        handle.write(f"\n==== {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC {sys.argv[1:]}\n")
    manage = [PYTHON, "manage.py"]
    sizes = {
        name: count_lines(args.data / f"{name}.csv") for name in ("members", "items", "ratings")
    }
    print(f"data: {sizes}", flush=True)
    rows: list[list] = []
    if not args.skip_import:
        database_reset(args.server, args.database)
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        importer = Monitored(
            [
                *manage,
                "import_csv",
                *("--members", str(args.data / "members.csv")),
                *("--items", str(args.data / "items.csv")),
                *("--ratings", str(args.data / "ratings.csv")),
            ],
            env,
            log,
        )
        if importer.run("import") != 0:
            sys.exit("import failed; see " + str(log))
        rows += [[f"import ({name})", s, mb] for name, s, mb in importer.stages]
    run_rows: list[list] = []
    runner = Monitored([*manage, "run_segmentation", "--k", args.k], env, log)
    if not args.skip_run:
        if runner.run("start (Django, models)") != 0:
            sys.exit("run failed; see " + str(log))
        run_rows = [r for r in runner.stages if r[0] != "succeeded"]
    rows += run_rows
    run_seconds = sum(r[1] for r in run_rows)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"Measured {stamp} by `bench/scale_e2e.py --data {args.data} --k {args.k}` "
        f"on PostgreSQL: {sizes['members']:,} members, {sizes['items']:,} items, "
        f"{sizes['ratings']:,} ratings (bench/scale_data.py).",
        "",
        "| stage | seconds | peak RSS MB |",
        "|---|---:|---:|",
        *(f"| {name} | {seconds:.1f} | {mb:,.0f} |" for name, seconds, mb in rows),
    ]
    if run_rows:
        lines.append(
            f"| **the run (import excluded)** | **{run_seconds:.0f}** "
            f"({run_seconds / 60:.1f} min; target <= 60) | **{runner.peak_mb:,.0f}** "
            "(target <= 12,288) |"
        )
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

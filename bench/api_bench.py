"""The list API against a bare one-query view in the same server (issue 10.3).

gunicorn (2 sync workers, production settings: DEBUG off, persistent connections) serves a
scratch PostgreSQL holding a synthetic active run (members, items, segments, lists of
top_k entries, a placer blob the size of a real one). wrk drives, at 50 connections on
loopback, ``GET /api/members/<id>/recommendations`` (token auth, throttles, permissions,
the run's items) and ``GET /bench/bare/<id>`` (one query, the stored entries as JSON; only
bench/api_bench_urls.py has it), interleaved round by round, over random members and one
token per connection's requests in turn (50 API users).

    flock /tmp/segrec-bench.lock .venv/bin/python bench/api_bench.py \
        [--members 20000] [--rounds 3] [--seconds 8] [--database-url postgres://...]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # run as a script from bench/, like the other benches
    sys.path.insert(0, str(ROOT))
DEFAULT_URL = os.environ.get(
    "SEGREC_BENCH_API_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/segrec_bench_api"
)
TARGET = 0.8
CLIENTS = 50
WORKERS = 2
ITEMS = 3000
TOP_K = 20
USERS = 50
LUA = """
local paths = {%(paths)s}
local tokens = {%(tokens)s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Token " .. tokens[n %% #tokens + 1] end
  return wrk.format("GET", paths[n %% #paths + 1], headers)
end
"""


def scratch_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def django_setup(url: str) -> None:
    import django

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segrec_site.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed(n_members: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """A synthetic active run; returns member ids to ask for and the API users' tokens."""
    import random
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from catalog.models import Item, Member
    from segments.models import (
        Membership,
        RecommendationList,
        RunStatus,
        Segment,
        SegmentationRun,
    )

    rng = random.Random(seed)
    items = Item.objects.bulk_create(
        Item(external_id=f"i{i}", title=f"Title {i}", year=1950 + i % 70, genres=["Drama"])
        for i in range(ITEMS)
    )
    members = Member.objects.bulk_create(
        (Member(external_id=f"m{i}", age=20 + i % 50) for i in range(n_members)), batch_size=5000
    )
    run = SegmentationRun.objects.create(
        status=RunStatus.SUCCEEDED,
        is_active=True,
        params={"k": 8, "top_k": TOP_K},
        metrics={"note": "x" * 20_000},
        placer=rng.randbytes(40_000),  # a real run's pickled placer is ~39 KB
    )
    segments = Segment.objects.bulk_create(
        Segment(run=run, number=n, label=f"Segment {n}", size=n_members // 8) for n in range(8)
    )
    Membership.objects.bulk_create(
        (
            Membership(run=run, member=m, segment=segments[i % 8], confidence=0.9)
            for i, m in enumerate(members)
        ),
        batch_size=5000,
    )
    RecommendationList.objects.bulk_create(
        (
            RecommendationList(
                run=run,
                member=m,
                entries=[
                    [item.pk, round(1 - r / TOP_K, 3), f"popular with Segment {r % 8} x2.{r}"]
                    for r, item in enumerate(rng.sample(items, TOP_K))
                ],
            )
            for m in members
        ),
        batch_size=2000,
    )
    users = [get_user_model().objects.create_user(f"client{i}") for i in range(USERS)]
    for user in users:
        call_command("grant_reader", user.username, stdout=StringIO())
    tokens = [Token.objects.create(user=user).key for user in users]
    asked = [m.external_id for m in rng.sample(members, min(2000, n_members))]
    return asked, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "api_bench_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)]),
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": "api-bench-only-" + "k" * 40,
        "SEGREC_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        # Per-second counting keeps the 50 users' throttle histories short, as in production.
        "SEGREC_API_USER_RATE": "100000/second",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", "segrec_site.wsgi:application"], env=env
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def lua_script(folder: Path, name: str, paths: list[str], tokens: list[str]) -> Path:
    script = folder / f"{name}.lua"
    quoted = lambda values: ", ".join(f'"{v}"' for v in values)  # noqa: E731
    script.write_text(LUA % {"paths": quoted(paths), "tokens": quoted(tokens)})
    return script


def seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(port: int, script: Path, duration: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CLIENTS}", f"-d{duration}s", "--latency", "-s", str(script)]
        + [f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{bad.group(1)} failed requests:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"no latency percentiles in wrk's output:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": seconds(latency["50"]),
        "p99": seconds(latency["99"]),
    }


def api_section(
    *, database_url: str = DEFAULT_URL, members: int = 20_000, rounds: int = 3, duration: int = 8
) -> list[str]:
    """Markdown lines: requests/s, p50 and p99 of both, and the ratio next to its target."""
    if shutil.which("wrk") is None:
        return ["## List API", "", "Skipped: wrk is not installed (apt-get install wrk)."]
    scratch_database(database_url)
    django_setup(database_url)
    asked, tokens = seed(members)
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    connections.close_all()
    port = free_port()
    server = start_server(database_url, port)
    runs: dict[str, list[dict[str, float]]] = {"api": [], "bare": []}
    try:
        with tempfile.TemporaryDirectory(prefix="segrec-api-bench-") as folder:
            scripts = {
                "api": lua_script(
                    Path(folder),
                    "api",
                    [f"/api/members/{m}/recommendations" for m in asked],
                    tokens,
                ),
                "bare": lua_script(Path(folder), "bare", [f"/bench/bare/{m}" for m in asked], []),
            }
            for name in ("api", "bare"):  # warm both workers' connections and caches
                wrk(port, scripts[name], 2)
            for _ in range(rounds):
                for name in ("api", "bare"):
                    runs[name].append(wrk(port, scripts[name], duration))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return table(runs, members=members, rounds=rounds, duration=duration)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def table(runs: dict[str, list[dict[str, Any]]], **shape: int) -> list[str]:
    api_rps, bare_rps = median(runs["api"], "rps"), median(runs["bare"], "rps")
    ratios = [a["rps"] / b["rps"] for a, b in zip(runs["api"], runs["bare"], strict=True)]
    lines = [
        "## List API",
        "",
        f"gunicorn {WORKERS} sync workers, wrk {CLIENTS} connections on loopback, "
        f"{shape['members']} members x {TOP_K} entries, {shape['rounds']} interleaved rounds of "
        f"{shape['duration']} s each (medians):",
        "",
        "| endpoint | requests/s | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, label in (("api", "GET /api/members/<id>/recommendations"), ("bare", "bare view")):
        lines.append(
            f"| {label} | {median(runs[name], 'rps'):.0f} | {median(runs[name], 'p50') * 1e3:.2f}"
            f" | {median(runs[name], 'p99') * 1e3:.2f} |"
        )
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    lines += [
        "",
        f"API / bare view: {api_rps / bare_rps:.2f}x (rounds {spread}; target >= {TARGET}x)",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    lines = api_section(
        database_url=args.database_url,
        members=args.members,
        rounds=args.rounds,
        duration=args.seconds,
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

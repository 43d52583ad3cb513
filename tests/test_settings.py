"""Production settings: no public fallback secret, and `check --deploy` clean."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SEGREC_VAR_DIR": str(ROOT / "var"), **env},
        capture_output=True,
        text=True,
    )


def test_without_debug_a_missing_secret_key_refuses_to_start() -> None:
    out = manage("check", DEBUG="false")
    assert out.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is false" in out.stderr


def test_the_documented_production_variables_pass_check_deploy() -> None:
    out = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="segrec.example.com",
    )
    assert out.returncode == 0, out.stderr
    assert "no issues" in out.stdout

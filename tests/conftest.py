"""Fixtures shared by the suites: the real Celery worker and a slice of real MovieLens data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

# The shared data folder sits beside the checkout (in CI too); SEGREC_TEST_ML100K overrides.
ML100K = Path(
    os.environ.get(
        "SEGREC_TEST_ML100K", Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
    )
)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The per-process cache (throttle counts, the active run's id, permissions) outlives a
    test's database, so every test starts and ends with it empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def ml100k_dir() -> Path:
    if not (ML100K / "ml-100k.inter").exists():
        pytest.fail(f"MovieLens-100K is expected at {ML100K} (see the README's Tests section)")
    return ML100K


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real worker thread consuming from the real broker (Redis under `make test`)."""
    if settings.SEGREC_EMBEDDED_BROKER:
        pytest.fail("set CELERY_BROKER_URL to a Redis URL to run worker tests (make test does)")
    from celery.contrib.testing.worker import start_worker

    from segrec_site.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        yield

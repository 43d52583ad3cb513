"""Embedding fanned out over a real Celery worker: each missing text once, into the cache."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from django.conf import settings

from ml.text.encoder import text_hash
from segments.models import EmbeddingCache
from segments.services import embeddings
from segments.services.embeddings import (
    fan_out_available,
    text_encoder_build,
    texts_embed,
    texts_embed_fanned,
)

TEXTS = [f"Film {i} ({1950 + i}). Genres: Drama. A story numbered {i}." for i in range(40)]


def _embedded_counts(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        int(r.getMessage().split()[1])
        for r in caplog.records
        if r.name == "segrec.embeddings" and r.getMessage().startswith("embedded ")
    )


def _precache(texts: list[str]) -> None:
    EmbeddingCache.objects.bulk_create(
        EmbeddingCache(
            model_name=settings.SEGREC_TEXT_MODEL,
            text_hash=text_hash(t),
            vector=np.ones(384, dtype=np.float32).tobytes(),
        )
        for t in texts
    )


def _cached(texts: list[str]) -> dict[str, bytes]:
    rows = EmbeddingCache.objects.filter(
        model_name=settings.SEGREC_TEXT_MODEL, text_hash__in=[text_hash(t) for t in texts]
    )
    return {r.text_hash: bytes(r.vector) for r in rows}


def test_worker_chunks_embed_exactly_the_missing_texts(
    celery_worker: None, caplog: pytest.LogCaptureFixture
):
    assert fan_out_available()
    caplog.set_level(logging.INFO, logger="segrec")
    _precache(TEXTS[:10])
    missing = TEXTS[10:] + TEXTS[10:15]  # repeats are embedded once

    texts_embed_fanned(
        model_name=settings.SEGREC_TEXT_MODEL, texts=missing, chunk_texts=8, timeout=300
    )

    cached = _cached(TEXTS)
    assert len(cached) == len(TEXTS)
    assert _embedded_counts(caplog) == 30  # the worker's chunks; none twice
    ones = np.ones(384, dtype=np.float32).tobytes()
    assert all(cached[text_hash(t)] == ones for t in TEXTS[:10])  # cached ones untouched


def test_caller_and_worker_share_the_chunks_and_match_in_process_vectors(
    celery_worker: None, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="segrec")
    encoder = text_encoder_build()

    texts_embed_fanned(
        model_name=encoder.model_name, texts=TEXTS, encoder=encoder, chunk_texts=5, timeout=300
    )

    assert _embedded_counts(caplog) == len(TEXTS)  # worker's and caller's together, once each
    vectors, fresh = texts_embed(texts=TEXTS, encoder=encoder)
    assert fresh == 0
    direct = encoder.encode(TEXTS)
    assert np.min(np.sum(vectors * direct, axis=1)) > 0.999


def test_a_waiter_wakes_on_each_chunks_notice_not_on_its_recheck(
    celery_worker: None, monkeypatch: pytest.MonkeyPatch
):
    # With the periodic look pushed past the timeout, a waiter that missed the notices sent
    # as the worker's chunks commit would sleep the whole 60 s before looking again.
    monkeypatch.setattr(embeddings, "_CHUNK_RECHECK_SECONDS", 3600.0)
    texts = [f"A notice for text {i}: a quiet street at dawn." for i in range(12)]
    seen: list[int] = []
    started = time.monotonic()

    texts_embed_fanned(
        model_name=settings.SEGREC_TEXT_MODEL,
        texts=texts,
        chunk_texts=4,
        timeout=60,
        progress=lambda done, total: seen.append(done),
    )

    assert time.monotonic() - started < 30
    assert len(_cached(texts)) == len(texts)
    assert seen == [4, 8, 12]

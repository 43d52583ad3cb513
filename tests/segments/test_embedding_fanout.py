"""Embedding fanned out over a real Celery worker: each missing text once, into the cache."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from django.conf import settings

from ml.text.encoder import text_hash
from segments.models import EmbeddingCache
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

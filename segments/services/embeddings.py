"""Text embeddings through the cache: a second run embeds only texts it has not seen."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
from django.conf import settings

from ml.text.encoder import TextEncoder, text_hash
from segments.models import EmbeddingCache

LOOKUP_BATCH = 5_000


@functools.cache
def shared_text_encoder() -> TextEncoder:
    """One encoder per process for texts embedded on demand (a newcomer's profile): the model
    loads on the first such text, not when the process starts, and stays loaded."""
    return text_encoder_build()


def text_encoder_build() -> TextEncoder:
    return TextEncoder(
        model_name=settings.SEGREC_TEXT_MODEL,
        device=settings.SEGREC_DEVICE,
        batch_size=settings.SEGREC_EMBED_BATCH_SIZE,
        precision=settings.SEGREC_EMBED_PRECISION,
    )


def texts_embed(
    *,
    texts: Sequence[str],
    encoder: TextEncoder,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embeddings for ``texts`` (row per text) and how many had to be computed afresh.

    Identical texts are embedded once; vectors are cached by (model name, text hash).
    """
    hashes = [text_hash(text) for text in texts]
    unique = dict(zip(hashes, texts, strict=True))
    cached = _cache_read(encoder.model_name, list(unique))
    missing = [h for h in unique if h not in cached]
    if missing:
        fresh = encoder.encode([unique[h] for h in missing], progress=progress)
        _cache_write(encoder.model_name, missing, fresh)
        cached.update(zip(missing, fresh, strict=True))
    if not hashes:
        return np.zeros((0, encoder.dimension), dtype=np.float32), 0
    return np.stack([cached[h] for h in hashes]).astype(np.float32), len(missing)


def cached_vectors(*, model_name: str, texts: Sequence[str]) -> list[np.ndarray]:
    """The cached embeddings of those ``texts`` that have one (no model is loaded)."""
    return list(_cache_read(model_name, [text_hash(text) for text in texts]).values())


def _cache_read(model_name: str, hashes: list[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(hashes), LOOKUP_BATCH):
        rows = EmbeddingCache.objects.filter(
            model_name=model_name, text_hash__in=hashes[start : start + LOOKUP_BATCH]
        ).values_list("text_hash", "vector")
        for digest, vector in rows:
            found[digest] = np.frombuffer(bytes(vector), dtype=np.float32)
    return found


def _cache_write(model_name: str, hashes: list[str], vectors: np.ndarray) -> None:
    rows = [
        EmbeddingCache(
            model_name=model_name, text_hash=digest, vector=vector.astype(np.float32).tobytes()
        )
        for digest, vector in zip(hashes, vectors, strict=True)
    ]
    EmbeddingCache.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)

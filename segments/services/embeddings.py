"""Text embeddings through the cache: a second run embeds only texts it has not seen."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext, suppress

import numpy as np
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction

from ml.text.encoder import TextEncoder, text_hash
from segments.models import EmbeddingCache

LOOKUP_BATCH = 5_000
# Fan-out over the Celery workers (issue 10.5): texts per chunk task (a modest message, a few
# seconds of work on one CPU thread), the fewest missing texts worth fanning out, and the
# torch threads a chunk runs on, so N single-threaded workers share N cores without
# oversubscribing them.
CHUNK_TEXTS = 256
FANOUT_MIN_TEXTS = 2 * CHUNK_TEXTS
CHUNK_TORCH_THREADS = 1
CHUNK_TASK = "segments.embed_chunk"
# pg_advisory_xact_lock(class, key): the class keeps chunk keys apart from other locks.
_CHUNK_LOCK_CLASS = 0x5E6E
# Whoever embeds a chunk notifies this channel as its transaction commits, so a process that
# only waits sleeps until then instead of polling the cache (its polling took CPU from the
# workers it waited on); it still looks every few seconds in case a notice was missed.
_CHUNK_CHANNEL = "segrec_embedded_chunk"
_CHUNK_RECHECK_SECONDS = 5.0
logger = logging.getLogger("segrec.embeddings")


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
    fan_out: bool = False,
) -> tuple[np.ndarray, int]:
    """Embeddings for ``texts`` (row per text) and how many had to be computed afresh.

    Identical texts are embedded once; vectors are cached by (model name, text hash). With
    ``fan_out``, where :func:`fan_out_available`, many missing texts are embedded by chunk
    tasks over the Celery workers, this process taking its share (:func:`texts_embed_fanned`).
    """
    hashes = [text_hash(text) for text in texts]
    unique = dict(zip(hashes, texts, strict=True))
    cached = _cache_read(encoder.model_name, list(unique))
    missing = [h for h in unique if h not in cached]
    if missing and fan_out and len(missing) >= FANOUT_MIN_TEXTS and fan_out_available():
        texts_embed_fanned(
            model_name=encoder.model_name,
            texts=[unique[h] for h in missing],
            encoder=encoder,
            progress=progress,
        )
        cached.update(_cache_read(encoder.model_name, missing))
    elif missing:
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


def fan_out_available() -> bool:
    """Chunk tasks need a real broker with workers (the laptop's embedded broker has one
    worker at most) and PostgreSQL (its advisory locks hand out the chunks); outside a
    transaction, so the workers' cache writes are visible here."""
    return (
        not settings.SEGREC_EMBEDDED_BROKER
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def texts_embed_fanned(
    *,
    model_name: str,
    texts: Sequence[str],
    encoder: TextEncoder | None = None,
    progress: Callable[[int, int], None] | None = None,
    queue: str | None = None,
    chunk_texts: int = CHUNK_TEXTS,
    timeout: float = 3600.0,
) -> None:
    """Embed ``texts`` into the cache with a group of chunk tasks, ``chunk_texts`` each.

    The texts travel in the chunk tasks' arguments, a chunk at a time. Whoever embeds a
    chunk holds its advisory lock while doing so and skips texts already cached, so each text
    is embedded once. With ``encoder``, this process works through the chunks too, from the
    last one while the workers start at the first, then waits on the chunks others hold:
    a run's own worker is never idle, and one worker alone cannot deadlock on its run. A
    chunk task that finds its chunk locked skips it: the holder embeds all of it.
    Without it (the benchmark), this process only waits, for at most ``timeout`` seconds.
    No result backend is needed: the cache says when a chunk is done, and a notice on a
    PostgreSQL channel, sent as each chunk commits, says when to look.
    """
    from celery import group, signature  # the web process never fans out

    chunks = [list(texts[i : i + chunk_texts]) for i in range(0, len(texts), chunk_texts)]
    tasks = group(signature(CHUNK_TASK, args=(model_name, chunk)) for chunk in chunks)
    tasks.apply_async(**({"queue": queue} if queue else {}))
    done = 0

    def advance(chunk: list[str]) -> None:
        nonlocal done
        done += len(chunk)
        if progress:
            progress(done, len(texts))

    if encoder is None:
        _chunks_wait(model_name, chunks, timeout, on_chunk=advance)
        return
    held = []
    for chunk in reversed(chunks):
        if chunk_embed(model_name=model_name, texts=chunk, encoder=encoder, wait=False) is None:
            held.append(chunk)
        else:
            advance(chunk)
    for chunk in held:
        chunk_embed(model_name=model_name, texts=chunk, encoder=encoder, wait=True)
        advance(chunk)


def chunk_embed(
    *, model_name: str, texts: Sequence[str], encoder: TextEncoder | None = None, wait: bool
) -> int | None:
    """Embed the chunk's texts not cached yet, under the chunk's lock; how many were
    embedded, or None when another process holds the chunk and ``wait`` is False."""
    hashes = list(dict.fromkeys(text_hash(text) for text in texts))
    with transaction.atomic():
        if not _chunk_lock(hashes, wait=wait):
            return None
        cached = _cache_read(model_name, hashes)
        missing = [h for h in hashes if h not in cached]
        if missing:
            by_hash = {text_hash(text): text for text in texts}
            # A chunk task shares the machine with other workers: one thread each. The run's
            # own process (``encoder``) keeps its threads, or a lone worker would embed its
            # run's texts on one core.
            threads = nullcontext() if encoder else _torch_threads(CHUNK_TORCH_THREADS)
            with threads:
                model = encoder or chunk_encoder(model_name)
                vectors = model.encode([by_hash[h] for h in missing])
            _cache_write(model_name, missing, vectors)
        with connection.cursor() as cursor:  # delivered when this transaction commits
            cursor.execute("SELECT pg_notify(%s, '')", [_CHUNK_CHANNEL])
    logger.info("embedded %d of a chunk of %d texts", len(missing), len(hashes))
    return len(missing)


@functools.cache
def chunk_encoder(model_name: str) -> TextEncoder:
    """The worker's encoder for chunk tasks, loaded on the first chunk and kept."""
    return TextEncoder(
        model_name=model_name,
        device=settings.SEGREC_DEVICE,
        batch_size=settings.SEGREC_EMBED_BATCH_SIZE,
        precision=settings.SEGREC_EMBED_PRECISION,
    )


def _chunk_lock(hashes: list[str], *, wait: bool) -> bool:
    digest = hashlib.sha256("".join(hashes).encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHUNK_LOCK_CLASS, key])
            return True
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_CHUNK_LOCK_CLASS, key])
        (acquired,) = cursor.fetchone() or (False,)
        return bool(acquired)


def _chunks_wait(
    model_name: str,
    chunks: list[list[str]],
    timeout: float,
    on_chunk: Callable[[list[str]], None],
) -> None:
    """Call ``on_chunk`` as each chunk, in order, is in the cache; sleep on the chunk channel
    in between."""
    deadline = time.monotonic() + timeout
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {_CHUNK_CHANNEL}")
    try:
        for chunk in chunks:
            hashes = list(dict.fromkeys(text_hash(text) for text in chunk))
            # Counting, not reading the vectors: the waiter must not take CPU from the workers.
            cached = EmbeddingCache.objects.filter(model_name=model_name, text_hash__in=hashes)
            while cached.count() < len(hashes):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no worker embedded a chunk of {len(hashes)} texts in time")
                notices = connection.connection.notifies(
                    timeout=min(left, _CHUNK_RECHECK_SECONDS), stop_after=1
                )
                # Any chunk's notice: look again. Run to its end: the generator holds the
                # connection's lock until it returns.
                for _ in notices:
                    pass
            on_chunk(chunk)
    finally:
        # A broken connection must not hide what broke it (and has no LISTEN left to undo).
        with suppress(DatabaseError, InterfaceError), connection.cursor() as cursor:
            cursor.execute(f"UNLISTEN {_CHUNK_CHANNEL}")


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    # torch's thread count is per process: restore it for what the process does next.
    import torch  # imported here so web processes never load torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)

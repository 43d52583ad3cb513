"""Building every member's recommendation list for a run, with a reason on each item."""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.db import connection, transaction
from psycopg.copy import QueuedLibpqWriter

from ml.recommenders.candidates import candidate_pool, pool_share
from ml.recommenders.reasons import ReasonWriter
from ml.recommenders.segment_popularity import SegmentPopularity
from ml.recommenders.tuning import FitContext, fit_for_serving
from ml.segmentation.recipe import SegmentationRecipe, SegmentationResult
from segments.models import RecommendationList, SegmentationRun
from segments.params import RunParams
from segments.services.dataset import Dataset

BATCH = 512  # the recommenders score 512 members at a time: one batch, scored once
# (member pk, [(item pk, score, reason), ...]) per member: what one list row holds.
Rows = list[tuple[int, Sequence[Sequence[Any]]]]
SEGMENT_TOP = 100


@dataclass
class ListsBuilt:
    """What writing the lists learned: metrics for the run, and per segment its most liked
    items as [item pk, like share, lift] (the lists newcomers placed between runs get)."""

    metrics: dict[str, Any]
    segment_top: list[list[list[float]]]


def lists_rebuild(
    *,
    run: SegmentationRun,
    dataset: Dataset,
    segmentation: SegmentationResult,
    recipe: SegmentationRecipe,
    params: RunParams,
    progress: Callable[[int, int], None] | None = None,
) -> ListsBuilt:
    """Fit the run's recommender on all ratings and write each member's top-k list.

    A catalogue past the candidate pool's size serves the pool's items only
    (:mod:`ml.recommenders.candidates`); the metrics say how many and their share of ratings.
    """
    ratings = dataset.data.ratings()
    pool = candidate_pool(ratings)
    share = pool_share(ratings, pool)
    data = dataset.data if pool is None else dataset.data.with_items(pool)
    X = ratings if pool is None else data.ratings()
    del ratings  # at 50M ratings each matrix is ~600 MB: keep only the one served
    item_pks = dataset.item_pks if pool is None else dataset.item_pks[pool]
    titles = dataset.item_titles()
    if pool is not None:
        titles = [titles[i] for i in pool.tolist()]
    n_segments = int(segmentation.metrics["n_segments"])
    context = FitContext(
        timestamps=data.timestamps_matrix(),
        segments=segmentation.labels,
        item_embeddings=data.item_embeddings,
        profile_embeddings=data.profile_embeddings,
        seed=params.seed,
        relabel=recipe.relabeller(data, n_segments),
    )
    encoder = segmentation.placer.demographic_encoder
    demographics = encoder.transform(data.demographics())
    model = fit_for_serving(params.recommender, X, context, demographics=demographics)
    labels = [e["label"] for e in segmentation.explanations]
    reasons = ReasonWriter(model, titles, segmentation.labels, labels, encoder.feature_names_)
    with lists_writer(run_id=run.pk) as write:
        for start in range(0, dataset.n_members, BATCH):
            batch = np.arange(start, min(start + BATCH, dataset.n_members))
            items, scores = model.recommend(batch, params.top_k)
            why = reasons.explain(batch, items)
            write(list_rows(dataset.member_pks[batch], item_pks, items, scores, why))
            if progress:
                progress(int(batch[-1]) + 1, dataset.n_members)
    metrics = {
        "recommender": params.recommender,
        "lists": dataset.n_members,
        "top_k": params.top_k,
        "members_without_ratings": int(reasons.served.cold_.sum()),
        "tuning": context.tuning,
        "candidates": {
            "items": data.n_items,
            "catalogue": dataset.n_items,
            "rating_share": round(share, 4),
        },
    }
    return ListsBuilt(metrics, segment_top_items(reasons.served.segment_model, item_pks))


def segment_top_items(
    model: SegmentPopularity, item_pks: np.ndarray, n: int = SEGMENT_TOP
) -> list[list[list[float]]]:
    """Per segment, its most liked items as [item pk, like share, lift]: lists for newcomers."""
    top = []
    for rates, lifts in zip(model.rates_, model.lift_, strict=True):
        best = np.argsort(-rates, kind="stable")[:n]
        top.append(
            [[int(item_pks[i]), round(float(rates[i]), 4), round(float(lifts[i]), 2)] for i in best]
        )
    return top


def list_rows(
    member_pks: np.ndarray,
    item_pks: np.ndarray,
    items: np.ndarray,
    scores: np.ndarray,
    why: list[list[str]],
) -> Rows:
    """(member pk, entries) per row of ``items``: (item pk, score, reason) triples, ranked,
    the padding (item -1) left out; stored as JSON arrays. Whole arrays go to Python at
    once and full rows are zipped in C: per-cell numpy scalars and ``round`` calls made
    this loop slower than the COPY it feeds."""
    pks = item_pks[np.maximum(items, 0)]
    rounded = scores.astype(np.float64).round(5)
    full = np.all(items >= 0, axis=1)
    with _gc_paused():
        columns = (member_pks, pks, items, rounded)
        return _zipped(*(column.tolist() for column in columns), why, full.tolist())


def _zipped(*columns: list[Any]) -> Rows:
    rows: Rows = []
    for member, pk_row, item_row, score_row, reasons, whole in zip(*columns, strict=True):
        entries = list(zip(pk_row, score_row, reasons, strict=True))
        if not whole:
            entries = [entry for entry, item in zip(entries, item_row, strict=True) if item >= 0]
        rows.append((member, entries))
    return rows


@contextmanager
def lists_writer(*, run_id: int) -> Iterator[Callable[[Rows], None]]:
    """A function that stores batches of the run's lists, one ``COPY`` on PostgreSQL.

    The COPY stays open for the whole stage on a connection of its own, fed by a writer
    thread, so the server parses one batch while the next is computed and the run's
    progress and lease writes (Django's connection) go on meanwhile; it commits when the
    block ends and leaves nothing behind when the block raises. Inside a transaction
    (tests), whose rows another connection could not see, and on other databases, each
    batch is written on Django's connection instead. Either way the rows carry the run id
    and stay unserved until the run is activated, and a failed run's rows are deleted with
    it (segments.services.lifecycle)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield functools.partial(lists_store, run_id)
        return
    params = connection.get_connection_params()
    with psycopg.connect(**params) as own, own.cursor() as cursor:
        # A writer thread sends while this one builds the next batch; its queue holds at
        # most 128 MB (1,024 pieces of 128 KB) when the server falls behind.
        with cursor.copy(_COPY_SQL, writer=QueuedLibpqWriter(cursor)) as copy:
            yield lambda rows: copy.write(_copy_text(run_id, rows))


def lists_store(run_id: int, rows: Rows) -> None:
    """Store one batch of the run's lists on Django's connection, all or nothing: a ``COPY``
    on PostgreSQL, ``bulk_create`` elsewhere."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            _lists_bulk_create(run_id, rows)
            return
        with connection.cursor() as cursor:
            with cursor.copy(_COPY_SQL) as copy:
                copy.write(_copy_text(run_id, rows))


def _lists_bulk_create(run_id: int, rows: Rows) -> None:
    RecommendationList.objects.bulk_create(
        RecommendationList(run_id=run_id, member_id=member, entries=entries)
        for member, entries in rows
    )


def _copy_text(run_id: int, rows: Rows) -> str:
    # COPY's text format: tab-separated, backslash the escape character. json.dumps already
    # escapes tabs, newlines and control characters inside strings, so doubling backslashes
    # is the only escaping left.
    dumps = _JSON.encode
    with _gc_paused():
        return "".join(
            f"{run_id}\t{member}\t{dumps(entries).replace(_BACKSLASH, _BACKSLASH * 2)}\n"
            for member, entries in rows
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Building a batch allocates tens of thousands of tuples that make no cycles (refcounts
    # free them); with a run's arrays and sentences alive, each collection they trigger
    # walks millions of objects: measured 2.6x slower list building with the collector on.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_COPY_SQL = f"COPY {RecommendationList._meta.db_table} (run_id, member_id, entries) FROM STDIN"
_JSON = json.JSONEncoder(separators=(",", ":"))
_BACKSLASH = "\\"

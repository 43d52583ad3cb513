"""Ranking metrics and ``evaluate`` against values worked out by hand on tiny lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from ml.evaluation.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    intra_list_diversity,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
    summarise,
)
from ml.evaluation.report import evaluate, format_table
from ml.recommenders.ease import EASE

# Row 0 recommends 3, 1, (empty) and holds out {1, 5}: one hit, at rank 2.
# Row 1 recommends 0, 2, 4 and holds out {4}: one hit, at rank 3.
# Row 2 recommends 7, 8, 9 and holds out {1}: no hit.
RECS = np.array([[3, 1, -1], [0, 2, 4], [7, 8, 9]])
RELEVANT = sp.csr_matrix(
    (np.ones(4), ([0, 0, 1, 2], [1, 5, 4, 1])),
    shape=(3, 10),
)
LOG2_3 = np.log2(3.0)


def test_precision_counts_empty_slots_as_misses() -> None:
    # 1 hit / k=3 in rows 0 and 1; 0 in row 2.
    np.testing.assert_allclose(precision_at_k(RECS, RELEVANT), [1 / 3, 1 / 3, 0.0])


def test_recall_divides_by_number_held_out() -> None:
    # row 0: 1 of 2; row 1: 1 of 1; row 2: 0 of 1.
    np.testing.assert_allclose(recall_at_k(RECS, RELEVANT), [0.5, 1.0, 0.0])


def test_ndcg_uses_log2_discount_and_ideal_truncated_at_k() -> None:
    # row 0: DCG = 1/log2(2+1); ideal with 2 relevant = 1/log2(2) + 1/log2(3) = 1 + 1/log2(3).
    row0 = (1 / LOG2_3) / (1 + 1 / LOG2_3)  # = 0.38685
    # row 1: DCG = 1/log2(3+1) = 0.5; ideal with 1 relevant = 1.
    np.testing.assert_allclose(ndcg_at_k(RECS, RELEVANT), [row0, 0.5, 0.0])


def test_ndcg_ideal_is_truncated_when_more_relevant_than_k() -> None:
    # 5 relevant items, k=2, both slots hit: DCG equals the ideal of 2 slots, so NDCG = 1.
    relevant = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 0]]))
    assert ndcg_at_k(np.array([[0, 1]]), relevant)[0] == pytest.approx(1.0)


def test_hit_rate_map_and_mrr() -> None:
    np.testing.assert_allclose(hit_rate_at_k(RECS, RELEVANT), [1.0, 1.0, 0.0])
    # AP row 0: precision@2 = 1/2 at the hit, over min(k=3, 2 relevant) = 2 -> 0.25.
    # AP row 1: precision@3 = 1/3 at the hit, over min(3, 1) = 1 -> 1/3.
    np.testing.assert_allclose(map_at_k(RECS, RELEVANT), [0.25, 1 / 3, 0.0])
    # First hit at rank 2 and rank 3.
    np.testing.assert_allclose(mrr_at_k(RECS, RELEVANT), [0.5, 1 / 3, 0.0])


def test_summarise_means_every_metric_with_k_in_the_key() -> None:
    summary = summarise(RECS, RELEVANT)
    assert summary["precision@3"] == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert summary["mrr@3"] == pytest.approx((0.5 + 1 / 3) / 3)
    assert set(summary) == {
        f"{m}@3" for m in ("precision", "recall", "ndcg", "hit_rate", "map", "mrr")
    }


def test_a_duplicate_free_unsorted_relevant_matrix_gives_the_same_hits() -> None:
    shuffled = sp.csr_matrix(
        (np.ones(4), np.array([5, 1, 4, 1]), np.array([0, 2, 3, 4])), shape=(3, 10)
    )
    np.testing.assert_allclose(ndcg_at_k(RECS, shuffled), ndcg_at_k(RECS, RELEVANT))


def test_catalogue_coverage_counts_distinct_items_ignoring_padding() -> None:
    # Items 0 and 1 appear, out of 4.
    assert catalogue_coverage(np.array([[0, 1], [1, -1]]), 4) == 0.5


def test_intra_list_diversity_is_mean_pairwise_one_minus_cosine() -> None:
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # Pairs of [0, 1, 2]: cos(0,1) = 0, cos(0,2) = cos(1,2) = 1/sqrt(2); mean = 0.4714.
    expected = 1 - (2 / np.sqrt(2)) / 3  # 0.5286
    out = intra_list_diversity(np.array([[0, 1, 2], [0, -1, -1]]), emb)
    assert out[0] == pytest.approx(expected)
    assert np.isnan(out[1])  # one item: no pair


def test_novelty_is_mean_self_information_with_counts_clipped_at_one() -> None:
    counts = np.array([10, 5, 1, 0])
    # p = 10/10, 5/10, 1/10, and 0 clipped to 1/10 -> -log2 p = 0, 1, 3.3219, 3.3219.
    out = novelty(np.array([[0, 1], [2, 3], [3, -1]]), counts, n_members=10)
    np.testing.assert_allclose(out, [0.5, np.log2(10), np.log2(10)])


def test_evaluate_reports_groups_and_format_table_lists_models_as_rows() -> None:
    # Members 0-1 like items 0-2, members 2-3 like items 3-5; each hides one liked item.
    train = sp.csr_matrix(
        np.array(
            [[1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 0, 1]],
            dtype=float,
        )
    )
    test = sp.csr_matrix(
        np.array(
            [[0, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0]],
            dtype=float,
        )
    )
    model = EASE(l2=1.0).fit(train)
    first = np.array([True, True, False, False])
    res = evaluate(
        model,
        test,
        k=1,
        users=np.arange(4),
        item_popularity=np.ones(6),
        item_embeddings=np.eye(6),
        groups={"first": first},
    )
    assert res["precision@1"] == 1.0  # the held-out item is the only co-liked unseen one
    assert res["groups"]["first"]["members"] == 2
    table = format_table(
        {"ease": res, "lists": evaluate(np.zeros((4, 1), int), test, k=1, users=np.arange(4))}
    )
    header, rule, ease_row, lists_row = table.splitlines()
    assert header.split()[:3] == ["model", "members", "precision@1"]
    assert ease_row.split()[0] == "ease" and lists_row.split()[0] == "lists"
    assert lists_row.split()[-1] == "-"  # lists were given without popularity: no novelty

"""Place members the clustering never saw (new, or too few ratings) into a segment."""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

MODELS = ("logistic", "random_forest", "gradient_boosting")
CV_MAX_ROWS = 5_000
# The final model learns from at most this many members: a classifier that places newcomers
# in one of a dozen segments gains nothing measurable from millions of rows, and its cost
# (and the float64 copy of the features) would grow with membership.
FIT_MAX_ROWS = 20_000
# Below this many rows OpenMP threads cost more than they save (measured: gradient boosting on
# 200 rows took 18 s with all threads of a busy 2-core machine, 1.9 s with one).
SINGLE_THREAD_ROWS = 20_000


class SegmentClassifier:
    """Predict a member's segment from features available early (see :func:`cheap_features`).

    Parameters
    ----------
    model : {"logistic", "random_forest", "gradient_boosting"}
        Standardised multinomial logistic regression, a 200-tree random forest, or
        histogram gradient boosting.
    random_state : int or None
        Seed for the model and the cross-validation folds.
    cv : int
        Folds for the accuracy estimate; clipped to the smallest segment's size (at least 2).
    max_rows : int or None
        Past this many rows the final model is fitted on a random sample of that many
        (stratified, so every segment keeps its share); None fits on all of them.

    Attributes
    ----------
    estimator_ : scikit-learn classifier
        Fitted on all the data.
    classes_ : ndarray
        Segment labels, in the column order of :meth:`predict_proba`.
    cv_accuracy_ : float
        Mean accuracy over stratified, shuffled folds (NaN only if every fold failed to fit,
        e.g. a training fold held a single segment).
    cv_folds_ : int
        Folds actually used: ``cv`` clipped to the smallest segment's size, at least 2.
    n_fit_rows_ : int
        Rows the final model learnt from (at most ``max_rows``).
    """

    def __init__(
        self,
        model: str = "logistic",
        random_state: int | None = 0,
        cv: int = 5,
        max_rows: int | None = FIT_MAX_ROWS,
    ) -> None:
        self.model = model
        self.random_state = random_state
        self.cv = cv
        self.max_rows = max_rows

    def fit(self, X: np.ndarray, labels: np.ndarray) -> SegmentClassifier:
        if self.model not in MODELS:
            raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {self.model!r}")
        if not isinstance(self.cv, int) or isinstance(self.cv, bool) or self.cv < 2:
            raise ValueError(f"cv: expected an integer >= 2, got {self.cv!r}")
        labels = np.asarray(labels)
        if labels.shape != (len(X),):
            raise ValueError(f"labels: expected {len(X)} labels, got shape {labels.shape}")
        if len(np.unique(labels)) < 2:
            raise ValueError("labels: expected at least two segments to tell apart")
        rows = stratified_rows(labels, self.max_rows, self.random_state)
        X, labels = _check_X(np.asarray(X)[rows]), labels[rows]
        self.n_fit_rows_ = len(rows)
        counts = np.unique(labels, return_counts=True)[1]
        self.cv_folds_ = int(max(2, min(self.cv, counts.min(), len(X) // 2)))
        with _thread_limit(len(X)):
            self.cv_accuracy_ = self._cross_validate(X, labels)
            self.estimator_ = self._make().fit(X, labels)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of each segment, shape (n, len(classes_))."""
        if not hasattr(self, "estimator_"):
            raise RuntimeError("SegmentClassifier: call fit before predict")
        X = _check_X(X)
        with _thread_limit(len(X)):
            return self.estimator_.predict_proba(X)

    def _make(self) -> ClassifierMixin:
        from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.model == "logistic":
            return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        if self.model == "random_forest":
            return RandomForestClassifier(n_estimators=200, random_state=self.random_state)
        return HistGradientBoostingClassifier(random_state=self.random_state)

    def _cross_validate(self, X: np.ndarray, labels: np.ndarray) -> float:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        if len(X) > CV_MAX_ROWS:
            # An accuracy estimate needs thousands of members, not millions: six fits on all of
            # them took 95 s at 20,000 members and grow linearly.
            rows = np.random.default_rng(self.random_state).choice(len(X), CV_MAX_ROWS, False)
            X, labels = X[rows], labels[rows]
        folds = StratifiedKFold(self.cv_folds_, shuffle=True, random_state=self.random_state)
        # A segment smaller than the folds is missing from some; the other folds still count.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            scores = cross_val_score(self._make(), X, labels, cv=folds, error_score=np.nan)
        finite = scores[np.isfinite(scores)]
        return float(finite.mean()) if len(finite) else float("nan")


def stratified_rows(labels: np.ndarray, max_rows: int | None, seed: int | None) -> np.ndarray:
    """Row indices: all of them, or past ``max_rows`` that many with each label's share kept
    (at least two rows of every label, so each stays learnable)."""
    if max_rows is None or len(labels) <= max_rows:
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    if np.unique(labels, return_counts=True)[1].min() < 2:  # stratifying needs two of each
        return np.sort(np.random.default_rng(seed).choice(len(labels), max_rows, replace=False))
    kept, _ = train_test_split(
        np.arange(len(labels)), train_size=max_rows, stratify=labels, random_state=seed
    )
    return np.sort(kept)


def cheap_features(
    demographics: np.ndarray,
    first_item_embeddings: np.ndarray | None = None,
    profile_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """Features known for a new member: demographics, the mean embedding of their first few
    rated items (rows of zeros for members with none; see
    :func:`features.first_item_embeddings`) and the embedding of their profile text (what
    they wrote about themselves). ``None`` leaves a block out."""
    demographics = np.atleast_2d(np.asarray(demographics, dtype=np.float32))
    blocks = [demographics]
    for name, block in (
        ("first_item_embeddings", first_item_embeddings),
        ("profile_embeddings", profile_embeddings),
    ):
        if block is None:
            continue
        embeddings = np.atleast_2d(np.asarray(block, dtype=np.float32))
        if len(embeddings) != len(demographics):
            raise ValueError(f"{name}: expected {len(demographics)} rows, got {len(embeddings)}")
        blocks.append(np.nan_to_num(embeddings))
    return np.hstack(blocks)


def _thread_limit(n_rows: int) -> AbstractContextManager:
    return threadpool_limits(1, user_api="openmp") if n_rows < SINGLE_THREAD_ROWS else nullcontext()


def _check_X(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ValueError("X: expected a 2-D array of finite numbers")
    return X

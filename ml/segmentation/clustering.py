"""Cluster member feature vectors into segments with one interface over six algorithms."""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
from collections.abc import Iterator

import numpy as np

ALGORITHMS = ("kmeans", "minibatch_kmeans", "gmm", "agglomerative", "hdbscan", "dbscan")
# Algorithms whose cost grows faster than linearly: fitted on a sample when n is large.
_SAMPLED = ("agglomerative", "hdbscan", "dbscan")
DENSITY_DIMS = 10
# Rows per chunk when measuring distances to centres (about 100 MB of float64 at 776 features).
DISTANCE_CHUNK = 16_384


class Segmenter:
    """Assign every member to exactly one segment.

    Parameters
    ----------
    algorithm : {"kmeans", "minibatch_kmeans", "gmm", "agglomerative", "hdbscan", "dbscan"}
        k-means and mini-batch k-means use k-means++ seeding; "gmm" is a Gaussian mixture
        with diagonal covariances; "agglomerative" is Ward linkage. "hdbscan" and "dbscan"
        find their own number of clusters and call some members noise.
    n_clusters : int
        Number of segments; for "hdbscan" and "dbscan" only a size hint: the expected segment
        size ``n / n_clusters`` sets their minimum cluster size (see Notes).
    random_state : int or None
        Seed for initialisation and sampling.
    max_fit_samples : int
        "agglomerative", "hdbscan" and "dbscan" need memory or time that grows faster than
        n; with more members than this they are fitted on a random sample of this size and
        the other members are assigned to the nearest segment centre (not flagged as noise).
        Ward's memory is about 4 * max_fit_samples**2 bytes (1.6 GB at 20 000).
    device : str
        A torch device for "kmeans" ("cuda" on a GPU worker): fitted by
        :class:`ml.segmentation.torch_kmeans.TorchKMeans` there, the same objective as
        scikit-learn's; "cpu" (the default) uses scikit-learn.

    Attributes
    ----------
    labels_ : ndarray of int, shape (n,)
        Segment of each member, 0..n_clusters_-1, segment 0 the largest.
    confidence_ : ndarray of float, shape (n,)
        In [0, 1]. k-means family, agglomerative and dbscan: ``1 - d1 / d2``, d1 and d2 the
        distances to the nearest and second-nearest centre (0 on a border, 1 at a centre);
        gmm: the largest posterior probability; hdbscan: its membership probability.
        Noise members get 0.
    noise_ : ndarray of bool, shape (n,)
        Members hdbscan/dbscan called noise; they are attached to the nearest centre.
    centers_ : ndarray, shape (n_clusters_, n_features)
        Segment centres (k-means' own centres; otherwise the mean of non-noise members).
    n_clusters_ : int
        Number of segments found.

    Notes
    -----
    hdbscan: ``min_cluster_size = max(5, n // (4 * n_clusters))``, so a group under a quarter
    of the hinted segment size is not a segment; ``min_samples = min(min_cluster_size, 10)``.
    dbscan: ``min_samples`` as for hdbscan; ``eps`` is the knee of the sorted distances to
    each member's ``min_samples``-th neighbour (the k-distance curve): the point farthest
    below the straight line joining the curve's ends, both axes scaled to [0, 1]. Members
    past the knee sit in sparse regions and become noise. If every member is noise, all form
    one segment.
    """

    def __init__(
        self,
        algorithm: str = "kmeans",
        n_clusters: int = 8,
        random_state: int | None = 0,
        max_fit_samples: int = 20000,
        device: str = "cpu",
    ) -> None:
        self.algorithm = algorithm
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.max_fit_samples = max_fit_samples
        self.device = device

    def fit(self, X: np.ndarray) -> Segmenter:
        X = self._validate(X)
        fit_rows = self._fit_rows(len(X))
        sample = X if len(fit_rows) == len(X) else X[fit_rows]  # no copy when fitting all
        raw, centres, confidence = _FITTERS[self.algorithm](self, sample)
        labels = np.full(len(X), -2, dtype=np.int64)  # -2: not in the fitted sample
        labels[fit_rows] = raw
        centres, labels = _compact(X, labels, centres)
        self.noise_ = labels == -1
        unplaced = labels < 0
        labels[unplaced] = _nearest(X[unplaced], centres)
        order = np.lexsort((np.arange(len(centres)), -np.bincount(labels, minlength=len(centres))))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.labels_ = rank[labels]
        self.centers_ = centres[order]
        self.n_clusters_ = len(centres)
        self.confidence_ = self._confidence(X, fit_rows, confidence)
        return self

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Segment of each row of ``X``: the nearest centre."""
        if not hasattr(self, "centers_"):
            raise RuntimeError("Segmenter: call fit before predict")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.centers_.shape[1]:
            raise ValueError(f"X: expected shape (n, {self.centers_.shape[1]}), got {X.shape}")
        return _nearest(X, self.centers_)

    def _validate(self, X: np.ndarray) -> np.ndarray:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(
                f"algorithm: expected one of {', '.join(ALGORITHMS)}, got {self.algorithm!r}"
            )
        for name in ("n_clusters", "max_fit_samples"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        # Float32 stays float32: a float64 copy of a million members' features was 6 GB.
        X = np.asarray(X)
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        if X.ndim != 2 or not np.all(np.isfinite(X)):
            raise ValueError("X: expected a 2-D array of finite numbers")
        if self.n_clusters > len(X):
            raise ValueError(f"n_clusters: {self.n_clusters} is more than the {len(X)} rows of X")
        if self.max_fit_samples < 2 * self.n_clusters:
            raise ValueError(
                f"max_fit_samples: expected at least 2 * n_clusters, got {self.max_fit_samples}"
            )
        return X

    def _fit_rows(self, n: int) -> np.ndarray:
        if self.algorithm not in _SAMPLED or n <= self.max_fit_samples:
            return np.arange(n)
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(n, size=self.max_fit_samples, replace=False))

    def _confidence(
        self, X: np.ndarray, fit_rows: np.ndarray, given: np.ndarray | None
    ) -> np.ndarray:
        confidence = _distance_confidence(X, self.centers_)
        if given is not None:
            confidence[fit_rows] = given
        confidence[self.noise_] = 0.0
        return np.clip(confidence, 0.0, 1.0)


def _fit_kmeans(seg: Segmenter, X: np.ndarray) -> tuple:
    if seg.device != "cpu":
        from ml.segmentation.torch_kmeans import TorchKMeans

        gpu = TorchKMeans(
            seg.n_clusters, n_init=4, random_state=seg.random_state, device=seg.device
        )
        gpu.fit(X)
        return gpu.labels_, gpu.cluster_centers_, None
    from sklearn.cluster import KMeans

    # copy_x=False: scikit-learn centres X in place and adds the mean back afterwards (values
    # may move by a rounding error) instead of copying it, 3 GB for a million members.
    model = KMeans(
        seg.n_clusters, init="k-means++", n_init=4, random_state=seg.random_state, copy_x=False
    )
    model.fit(X)
    return model.labels_, model.cluster_centers_, None


def _fit_minibatch(seg: Segmenter, X: np.ndarray) -> tuple:
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(
        seg.n_clusters, init="k-means++", n_init=3, batch_size=1024, random_state=seg.random_state
    )
    model.fit(X)
    return model.labels_, model.cluster_centers_, None


def _fit_gmm(seg: Segmenter, X: np.ndarray) -> tuple:
    # Diagonal covariances: full ones need more members per segment than features to estimate.
    from sklearn.mixture import GaussianMixture

    model = GaussianMixture(
        seg.n_clusters, covariance_type="diag", n_init=2, random_state=seg.random_state
    )
    posterior = model.fit(X).predict_proba(X)
    return posterior.argmax(axis=1), None, posterior.max(axis=1)


def _fit_agglomerative(seg: Segmenter, X: np.ndarray) -> tuple:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(seg.n_clusters, linkage="ward").fit_predict(X), None, None


def _density_sizes(n: int, n_clusters: int) -> tuple[int, int]:
    min_cluster_size = max(5, n // (4 * n_clusters))
    return min_cluster_size, min(min_cluster_size, 10)


def _density_space(seg: Segmenter, X: np.ndarray) -> np.ndarray:
    """The leading principal components of ``X``.

    In the hundreds of dimensions of fused member features every member is about as far
    from every other, so density-based methods called all 943 ML-100K members noise; on
    a few components they find dense groups.
    """
    from sklearn.decomposition import PCA

    n_components = min(DENSITY_DIMS, X.shape[1], max(len(X) - 1, 1))
    return PCA(n_components=n_components, random_state=seg.random_state).fit_transform(X)


def _fit_hdbscan(seg: Segmenter, X: np.ndarray) -> tuple:
    from sklearn.cluster import HDBSCAN

    min_cluster_size, min_samples = _density_sizes(len(X), seg.n_clusters)
    model = HDBSCAN(
        min_cluster_size=min(min_cluster_size, len(X)), min_samples=min_samples, copy=True
    )
    model.fit(_density_space(seg, X))
    return model.labels_, None, model.probabilities_


def _fit_dbscan(seg: Segmenter, X: np.ndarray) -> tuple:
    from sklearn.cluster import DBSCAN

    _, min_samples = _density_sizes(len(X), seg.n_clusters)
    min_samples = min(min_samples, len(X) - 1) if len(X) > 1 else 1
    Z = _density_space(seg, X)
    eps = knee_eps(Z, min_samples)
    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(Z), None, None


def knee_eps(X: np.ndarray, k: int) -> float:
    """DBSCAN radius at the knee of the sorted distances to each point's k-th neighbour."""
    from sklearn.neighbors import NearestNeighbors

    if len(X) < 2:
        return 1.0
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    curve = np.sort(distances[:, -1])
    span = curve[-1] - curve[0]
    if span <= 0:
        return max(float(curve[0]), 1e-9)
    x = np.linspace(0.0, 1.0, len(curve))
    y = (curve - curve[0]) / span
    return max(float(curve[np.argmax(x - y)]), 1e-9)


_FITTERS = {
    "kmeans": _fit_kmeans,
    "minibatch_kmeans": _fit_minibatch,
    "gmm": _fit_gmm,
    "agglomerative": _fit_agglomerative,
    "hdbscan": _fit_hdbscan,
    "dbscan": _fit_dbscan,
}


def _compact(
    X: np.ndarray, labels: np.ndarray, centres: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty clusters and renumber 0..m-1; noise (-1) and unsampled (-2) stay negative."""
    present = np.unique(labels[labels >= 0])
    if len(present) == 0:  # everyone is noise: one segment around the overall mean
        return X.mean(axis=0, keepdims=True), labels
    remap = np.full(int(present.max()) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    compact = np.where(labels >= 0, remap[np.maximum(labels, 0)], labels)
    if centres is not None:
        return np.asarray(centres, dtype=np.float64)[present], compact
    sums = np.zeros((len(present), X.shape[1]))
    member = compact >= 0
    np.add.at(sums, compact[member], X[member])
    return sums / np.bincount(compact[member], minlength=len(present))[:, None], compact


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    if len(X) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.argmin(d, axis=1) for d in _squared_distances(X, centres)])


def _distance_confidence(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    if len(centres) < 2:
        return np.ones(len(X))
    parts = []
    for squared in _squared_distances(X, centres):
        two = np.sqrt(np.partition(squared, 1, axis=1)[:, :2])
        parts.append(1.0 - two[:, 0] / np.maximum(two[:, 1], 1e-12))
    return np.concatenate(parts) if parts else np.zeros(0)


def _squared_distances(X: np.ndarray, centres: np.ndarray) -> Iterator[np.ndarray]:
    """Squared distances of ``X``'s rows to ``centres`` in float64, a chunk of rows at a
    time: a float64 copy of a million members' float32 features was 6 GB."""
    from sklearn.metrics import pairwise_distances

    centres = np.asarray(centres, dtype=np.float64)
    for start in range(0, len(X), DISTANCE_CHUNK):
        rows = np.asarray(X[start : start + DISTANCE_CHUNK], dtype=np.float64)
        yield pairwise_distances(rows, centres, metric="sqeuclidean")

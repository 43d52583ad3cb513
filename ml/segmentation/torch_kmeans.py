"""k-means on a torch device (a GPU when the worker has one), scikit-learn's objective.

The same algorithm as :class:`sklearn.cluster.KMeans` with ``init="k-means++"``: greedy
k-means++ seeding (``2 + log k`` candidates per centre), Lloyd iterations until the centres
move less than ``tol`` times the data's mean variance, ``n_init`` restarts keeping the
lowest inertia. Distances are computed in row chunks, so memory stays at
``chunk x n_clusters`` beside the data itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CHUNK_ROWS = 65_536


class TorchKMeans:
    """Parameters and attributes as scikit-learn's KMeans (``labels_``, ``cluster_centers_``,
    ``inertia_``, ``n_iter_``); ``device`` is a torch device name ("cuda", "cuda:1", "cpu")."""

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        n_init: int = 4,
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: int | None = 0,
        device: str = "cuda",
        dtype: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.dtype = dtype

    def fit(self, X: np.ndarray) -> TorchKMeans:
        import torch

        dtype = self.dtype or torch.float32
        data = torch.as_tensor(np.ascontiguousarray(X), device=self.device).to(dtype)
        if data.ndim != 2 or len(data) < self.n_clusters:
            raise ValueError(
                f"X: expected at least {self.n_clusters} rows, got {tuple(data.shape)}"
            )
        generator = torch.Generator(device=self.device)
        generator.manual_seed(0 if self.random_state is None else int(self.random_state))
        threshold = self.tol * float(data.var(dim=0).mean())
        best: tuple[float, Any, Any, int] | None = None
        for _ in range(self.n_init):
            centres = _kmeans_plus_plus(data, self.n_clusters, generator)
            centres, labels, inertia, n_iter = _lloyd(data, centres, self.max_iter, threshold)
            if best is None or inertia < best[0]:
                best = (inertia, centres, labels, n_iter)
        assert best is not None
        self.inertia_ = best[0]
        self.cluster_centers_ = best[1].double().cpu().numpy()
        self.labels_ = best[2].cpu().numpy().astype(np.int64)
        self.n_iter_ = best[3]
        return self


def _nearest(data: Any, centres: Any) -> tuple[Any, Any]:
    """Index of and squared distance to the nearest centre, for every row."""
    import torch

    labels = torch.empty(len(data), dtype=torch.long, device=data.device)
    distances = torch.empty(len(data), dtype=data.dtype, device=data.device)
    centre_norms = (centres * centres).sum(dim=1)
    for start in range(0, len(data), CHUNK_ROWS):
        chunk = data[start : start + CHUNK_ROWS]
        squared = (chunk * chunk).sum(dim=1, keepdim=True) - 2 * chunk @ centres.T + centre_norms
        values, index = squared.min(dim=1)
        labels[start : start + len(chunk)] = index
        distances[start : start + len(chunk)] = values.clamp_min_(0)
    return labels, distances


def _kmeans_plus_plus(data: Any, k: int, generator: Any) -> Any:
    import torch

    n = len(data)
    trials = 2 + int(math.log(k))
    first = torch.randint(n, (1,), generator=generator, device=data.device)
    centres = [data[first[0]]]
    closest = ((data - centres[0]) ** 2).sum(dim=1)
    for _ in range(1, k):
        total = closest.sum()
        if float(total) <= 0:  # fewer distinct rows than k: repeat one
            candidates = torch.randint(n, (trials,), generator=generator, device=data.device)
        else:
            candidates = torch.multinomial(closest, trials, replacement=True, generator=generator)
        # Keep the candidate that lowers the potential most, as scikit-learn does.
        to_candidates = torch.cdist(data, data[candidates]).pow_(2)
        potentials = torch.minimum(closest[:, None], to_candidates).sum(dim=0)
        pick = int(potentials.argmin())
        centres.append(data[candidates[pick]])
        closest = torch.minimum(closest, to_candidates[:, pick])
    return torch.stack(centres)


def _lloyd(data: Any, centres: Any, max_iter: int, threshold: float) -> tuple[Any, Any, float, int]:
    import torch

    k = len(centres)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        labels, distances = _nearest(data, centres)
        sums = torch.zeros_like(centres).index_add_(0, labels, data)
        counts = torch.bincount(labels, minlength=k).to(data.dtype)
        moved = sums / counts.clamp_min(1)[:, None]
        empty = counts == 0
        if bool(empty.any()):  # an empty cluster takes the rows farthest from their centres
            far = distances.topk(int(empty.sum())).indices
            moved[empty] = data[far]
        shift = float(((moved - centres) ** 2).sum())
        centres = moved
        if shift <= threshold:
            break
    labels, distances = _nearest(data, centres)
    return centres, labels, float(distances.sum()), n_iter

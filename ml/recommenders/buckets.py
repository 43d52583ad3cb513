"""History-length buckets: where a member's list should lean on the segment or on them.

A member with two ratings says little about themself; a member with two hundred says a lot.
Blend weights are tuned per bucket, and evaluation reports every metric per bucket.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# Upper edges of the warm buckets; members with no rating form bucket "0".
EDGES = (5, 20)
NAMES = ("0", "1-5", "6-20", "21+")


def history_buckets(counts: np.ndarray) -> np.ndarray:
    """The bucket name of each member from their number of ratings."""
    counts = np.asarray(counts)
    index = np.where(counts == 0, 0, 1 + np.searchsorted(EDGES, counts, side="left"))
    return np.asarray(NAMES, dtype=object)[index].astype(str)


def rating_counts(X: sp.spmatrix) -> np.ndarray:
    return np.diff(sp.csr_matrix(X).indptr)

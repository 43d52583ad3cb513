"""Compare two segmentations of the same members: agreement and who moved where."""

from __future__ import annotations

# scikit-learn is imported inside the functions that use it: the admin, pages and API import
# this module for its names, and starting Django must stay fast.
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np


def compare_labelings(
    a: np.ndarray | Sequence[int] | Mapping[Hashable, int],
    b: np.ndarray | Sequence[int] | Mapping[Hashable, int],
) -> dict[str, Any]:
    """Adjusted Rand index and migration counts between labelings ``a`` and ``b``.

    Sequences are aligned by position and must have equal lengths; a negative label or None
    means "not in this labeling". Mappings (member id -> label) are aligned on their common
    keys. ``matrix[i][j]`` counts members in ``rows[i]`` of ``a`` and ``cols[j]`` of ``b``.
    With no members in common, ``ari`` is 0.0 and the matrix is empty.
    """
    from sklearn.metrics import adjusted_rand_score

    left, right = _align(a, b)
    rows, row_index = np.unique(left, return_inverse=True)
    cols, col_index = np.unique(right, return_inverse=True)
    matrix = np.zeros((len(rows), len(cols)), dtype=np.int64)
    np.add.at(matrix, (row_index, col_index), 1)
    ari = float(adjusted_rand_score(left, right)) if len(left) else 0.0
    return {
        "ari": ari,
        "n_common": int(len(left)),
        "rows": [int(r) for r in rows],
        "cols": [int(c) for c in cols],
        "matrix": matrix.tolist(),
    }


def _align(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = [key for key in a if key in b]
        a, b = [a[key] for key in keys], [b[key] for key in keys]
    elif isinstance(a, Mapping) or isinstance(b, Mapping):
        raise TypeError("a, b: pass two sequences or two mappings, not one of each")
    if len(a) != len(b):
        raise ValueError(f"a, b: expected equal lengths, got {len(a)} and {len(b)}")
    left = np.array([-1 if v is None else int(v) for v in a], dtype=np.int64)
    right = np.array([-1 if v is None else int(v) for v in b], dtype=np.int64)
    both = (left >= 0) & (right >= 0)
    return left[both], right[both]

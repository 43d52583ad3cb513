"""A small slice of real MovieLens-100K in RecBole's layout, for jobs that must run fast."""

from __future__ import annotations

from pathlib import Path

N_MEMBERS = 120
N_ITEMS = 250


def write_slice(source: Path, dest: Path) -> Path:
    """The first members and the most rated items of ML-100K, in RecBole's layout."""
    dest.mkdir()
    inter = (source / "ml-100k.inter").read_text().splitlines()
    rows = [line.split("\t") for line in inter[1:]]
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    top_items = set(sorted(counts, key=lambda i: (-counts[i], int(i)))[:N_ITEMS])
    members = {str(i) for i in range(1, N_MEMBERS + 1)}
    kept = [r for r in rows if r[0] in members and r[1] in top_items]
    (dest / "slice.inter").write_text("\n".join([inter[0], *["\t".join(r) for r in kept]]) + "\n")
    for suffix, key, wanted in (("item", 0, top_items), ("user", 0, members)):
        lines = (source / f"ml-100k.{suffix}").read_text(encoding="utf-8").splitlines()
        body = [line for line in lines[1:] if line.split("\t")[key] in wanted]
        (dest / f"slice.{suffix}").write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    return dest

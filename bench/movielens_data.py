"""MovieLens files -> the ML core's MemberData, with item/profile embeddings cached on disk.

Django-free, so benchmarks measure the numeric core alone; the file readers are the
importers' own.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.importers.movielens import movielens_files_find
from ml.segmentation.recipe import MemberData
from ml.text.encoder import TextEncoder
from ml.text.texts import item_text, member_profile_text

SHARED_DATA = ROOT.parent / "shared" / "data" / "ml-100k"
FETCHED_DATA = ROOT / "var" / "data" / "ml-100k"  # where `make data` puts it
DEFAULT_DATA = SHARED_DATA if SHARED_DATA.exists() else FETCHED_DATA
CACHE = ROOT / "var" / "bench"


def load_movielens(
    directory: Path = DEFAULT_DATA, *, model: str = "all-MiniLM-L6-v2", device: str = "auto"
) -> tuple[MemberData, dict]:
    members_rows, items_rows, ratings_rows = movielens_files_find(directory).rows()
    members = list(members_rows)
    items = list(items_rows)
    member_index = {m.external_id: i for i, m in enumerate(members)}
    item_index = {it.external_id: i for i, it in enumerate(items)}
    ratings = [
        (
            member_index[r.member_id],
            item_index[r.item_id],
            r.value,
            r.rated_at.timestamp() if r.rated_at else 0.0,
        )
        for r in ratings_rows
    ]
    arr = np.array(ratings, dtype=np.float64)
    item_texts = [item_text(it.title, it.year, it.genres, it.description) for it in items]
    profile_texts = [
        member_profile_text(m.age, m.gender, m.occupation, m.location, m.profile) for m in members
    ]
    started = time.perf_counter()
    encoder = TextEncoder(model_name=model, device=device, precision="fp32")  # reproducible
    item_emb = embed_cached(encoder, item_texts, "items")
    profile_emb = embed_cached(encoder, profile_texts, "profiles")
    info = {"embed_seconds": time.perf_counter() - started, "titles": [it.title for it in items]}
    data = MemberData(
        users=arr[:, 0].astype(np.int64),
        items=arr[:, 1].astype(np.int64),
        values=arr[:, 2].astype(np.float32),
        timestamps=arr[:, 3],
        n_members=len(members),
        n_items=len(items),
        ages=[m.age for m in members],
        genders=[m.gender for m in members],
        occupations=[m.occupation for m in members],
        item_genres=[it.genres for it in items],
        item_embeddings=item_emb,
        profile_embeddings=profile_emb,
    )
    return data, info


def embed_cached(encoder: TextEncoder, texts: list[str], name: str) -> np.ndarray:
    digest = hashlib.sha256(("\n".join(texts) + encoder.model_name).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    vectors = encoder.encode(texts)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors

"""The GPU check, for a session lent a CUDA machine: one short script, run once.

Prints embedding throughput (fp32 against what precision="auto" picks), torch k-means
throughput at 1M x 384 rows against scikit-learn on a sample, and runs the CUDA tests.
Everything it measures is printed; paste the output into bench/RESULTS.md's GPU section.

    .venv/bin/python bench/device_check.py [--rows 1000000] [--texts 20000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.segmentation.torch_kmeans import TorchKMeans  # noqa: E402
from ml.text.encoder import TextEncoder  # noqa: E402


def embedding(n_texts: int) -> None:
    texts = [
        f"Item {i} ({1950 + i % 70}). Genres: Drama. A story of people number {i % 997} "
        f"and the town they live in, told {'slowly ' * (i % 9)}with music."
        for i in range(n_texts)
    ]
    for precision in ("fp32", "auto", "fp32", "auto"):
        encoder = TextEncoder(device="cuda", batch_size=256, precision=precision)
        encoder.encode(texts[:512])
        started = time.perf_counter()
        encoder.encode(texts)
        seconds = time.perf_counter() - started
        print(
            f"embed {precision:>4} -> {encoder.precision_}: {n_texts / seconds:,.0f} texts/s "
            f"probe {encoder.probe_}",
            flush=True,
        )


def clustering(n_rows: int) -> None:
    import torch
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(16, 384)).astype(np.float32)
    X = centres[rng.integers(16, size=n_rows)] + rng.normal(size=(n_rows, 384)).astype(np.float32)
    for k in (8, 32):
        torch.cuda.synchronize()
        started = time.perf_counter()
        gpu = TorchKMeans(k, n_init=4, device="cuda").fit(X)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        print(f"torch k-means k={k} on {n_rows:,} x 384: {seconds:.1f} s, {gpu.n_iter_} iters")
        sample = X[:100_000]
        started = time.perf_counter()
        cpu = KMeans(k, n_init=4, random_state=0).fit(sample)
        cpu_seconds = time.perf_counter() - started
        on_sample = TorchKMeans(k, n_init=4, device="cuda").fit(sample)
        print(
            f"  scikit-learn on 100,000 rows: {cpu_seconds:.1f} s; inertia ratio torch/sklearn "
            f"{on_sample.inertia_ / cpu.inertia_:.4f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=20_000)
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}", flush=True)
    embedding(args.texts)
    clustering(args.rows)
    tests = ["tests/ml/test_text.py", "tests/ml/test_torch_kmeans.py", "-k", "cuda", "-q"]
    subprocess.run([sys.executable, "-m", "pytest", *tests], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()

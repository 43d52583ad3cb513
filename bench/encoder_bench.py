"""Encoder precision side by side: fp32 against bf16 (and what "auto" picks) on the same texts.

Interleaved rounds (fp32, bf16, fp32, bf16, ...) on one loaded model each, so a busy
machine slows both alike; the ratio is the median round's. Run alone or from `make bench`:

    .venv/bin/python bench/encoder_bench.py [--texts 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from host import bf16_hardware
from text_rich_bench import load_text_rich

from ml.text.encoder import TextEncoder

TARGET_SPEEDUP = 2.0


def encoder_section(*, n_texts: int = 2000, rounds: int = 3) -> list[str]:
    _, planted = load_text_rich()
    texts = (planted.item_texts() + planted.profile_texts())[:n_texts]
    encoders = {p: TextEncoder(device="cpu", precision=p) for p in ("fp32", "bf16")}
    for encoder in encoders.values():
        encoder.encode(texts[:64])  # load and warm up
    seconds: dict[str, list[float]] = {p: [] for p in encoders}
    vectors = {}
    for _ in range(rounds):
        for precision, encoder in encoders.items():
            started = time.perf_counter()
            vectors[precision] = encoder.encode(texts)
            seconds[precision].append(time.perf_counter() - started)
    cosine = (vectors["fp32"] * vectors["bf16"]).sum(axis=1)
    ratios = [a / b for a, b in zip(seconds["fp32"], seconds["bf16"], strict=True)]
    speedup = statistics.median(ratios)
    auto = TextEncoder(device="cpu", precision="auto")
    auto.encode(texts[:1])
    rate = {p: len(texts) / statistics.median(s) for p, s in seconds.items()}
    return [
        "## Encoder precision (CPU)",
        "",
        f"{len(texts)} text-rich item and profile texts, {rounds} interleaved rounds, "
        f"all-MiniLM-L6-v2, batch {encoders['fp32'].batch_size}; {bf16_hardware()}.",
        "",
        "| precision | texts/s (median round) | lowest cosine to fp32 | mean cosine |",
        "|---|---|---|---|",
        f"| fp32 | {rate['fp32']:.0f} | 1 | 1 |",
        f"| bf16 | {rate['bf16']:.0f} | {cosine.min():.6f} | {np.mean(cosine):.6f} |",
        "",
        f"bf16 / fp32 speed: {speedup:.2f}x (rounds {', '.join(f'{r:.2f}' for r in ratios)}); "
        f"target >= {TARGET_SPEEDUP:.1f}x: {'met' if speedup >= TARGET_SPEEDUP else 'not met'}. "
        f'`precision="auto"` chose **{auto.precision_}** here (probe: {auto.probe_}); it keeps '
        "bf16 only at cosine >= 0.9999 and >= 1.2x on its probe.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("\n".join(encoder_section(n_texts=args.texts, rounds=args.rounds)))


if __name__ == "__main__":
    main()

"""Texts for the encoder and the encoder itself (the real bundled MiniLM, on CPU)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from ml.text.encoder import (
    TextEncoder,
    resolve_device,
    resolve_model_path,
    text_hash,
)
from ml.text.texts import item_text, member_profile_text


def test_item_text_joins_title_year_genres_and_description() -> None:
    text = item_text("Star Wars", 1977, ["Action", "Sci-Fi"], "Rebels fight an empire")
    assert text == "Star Wars (1977). Genres: Action, Sci-Fi. Rebels fight an empire."


def test_item_text_omits_missing_parts_and_placeholder_genre() -> None:
    assert item_text("Good Morning", None, ["unknown"]) == "Good Morning."
    assert item_text("Usual Suspects, The", 1995, []) == "The Usual Suspects (1995)."


def test_member_profile_text_reads_as_a_sentence() -> None:
    assert member_profile_text(24, "M", "technician", "85711") == (
        "A 24-year-old male technician from 85711."
    )
    assert member_profile_text(18, "F", "engineer", "", "Loves noir.") == (
        "An 18-year-old female engineer. Loves noir."
    )


def test_member_profile_text_tolerates_missing_fields() -> None:
    assert member_profile_text(None, None, "student", None) == "A student."
    assert member_profile_text(30, "F", "none", None) == "A 30-year-old woman."
    assert member_profile_text(None, "", "", "", "Likes westerns") == "Likes westerns."
    assert member_profile_text(None, None, None, None) == ""


def test_resolve_model_path_maps_the_default_names_to_the_bundled_folder(tmp_path) -> None:
    folder = resolve_model_path("all-MiniLM-L6-v2")
    assert os.path.isfile(os.path.join(folder, "config.json"))
    assert resolve_model_path("sentence-transformers/all-MiniLM-L6-v2") == folder
    assert resolve_model_path("default") == folder
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert resolve_model_path("org/other-model") == "org/other-model"


def test_resolve_device_accepts_known_names_only() -> None:
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_text_hash_is_sha256_hex() -> None:
    assert text_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert text_hash("abc") != text_hash("abd")


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    # fp32: the order test compares a text's vector in a batch with the same text alone to
    # 1e-5, which only fp32 holds; bf16's promise (cosine 0.9999) is tested on its own.
    return TextEncoder(device="cpu", batch_size=2, precision="fp32")


SPACE_A = "A crew of astronauts flies a starship to a distant planet to fight aliens."
SPACE_B = "Space explorers travel across the galaxy in a rocket and meet an alien race."
OTHER = "A cookbook of French pastry recipes with butter, flour and sugar."


def test_encoder_returns_unit_vectors_in_input_order(encoder: TextEncoder) -> None:
    texts = [OTHER, "short", SPACE_A, "a somewhat longer sentence than short", SPACE_B]
    seen: list[tuple[int, int]] = []
    vectors = encoder.encode(texts, progress=lambda done, total: seen.append((done, total)))
    assert vectors.shape == (5, encoder.dimension) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    alone = encoder.encode([SPACE_A])[0]
    np.testing.assert_allclose(vectors[2], alone, atol=1e-5)
    assert seen[-1] == (5, 5) and len(seen) == 3
    assert encoder.device_ == "cpu"


def test_encoder_puts_similar_texts_closer(encoder: TextEncoder) -> None:
    a, b, other = encoder.encode([SPACE_A, SPACE_B, OTHER])
    assert a @ b > a @ other + 0.1
    assert a @ b > b @ other + 0.1


def test_encoder_on_no_texts_returns_an_empty_matrix(encoder: TextEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _cuda_available(), reason="the CUDA path needs a GPU")
def test_encoder_on_cuda_matches_cpu() -> None:
    texts = [
        "Alien (1979). Genres: Horror, Sci-Fi.",
        "Toy Story (1995). Genres: Animation, Children's, Comedy.",
        "A 24-year-old male technician from 85711.",
    ] * 50
    model = os.environ.get("SEGREC_TEXT_MODEL", "all-MiniLM-L6-v2")
    on_gpu = TextEncoder(model_name=model, device="cuda", batch_size=32).encode(texts)
    on_cpu = TextEncoder(model_name=model, device="cpu", batch_size=32).encode(texts)

    assert on_gpu.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(on_gpu, axis=1), 1.0, atol=1e-5)
    assert float((on_gpu * on_cpu).sum(axis=1).min()) > 0.999


def test_forced_fp32_runs_no_probe() -> None:
    encoder = TextEncoder(device="cpu", precision="fp32")
    encoder.encode(["one"])
    assert encoder.precision_ == "fp32" and encoder.probe_ == {}


def test_auto_precision_keeps_bf16_only_when_the_probe_says_it_is_close_and_faster() -> None:
    encoder = TextEncoder(device="cpu", batch_size=4, precision="auto")
    vectors = encoder.encode([SPACE_A, SPACE_B, OTHER])
    probe = encoder.probe_

    assert probe["candidate"] == "bf16"
    kept = probe["min_cosine"] >= 0.9999 and probe["speedup"] >= 1.2
    assert encoder.precision_ == ("bf16" if kept else "fp32")
    exact = TextEncoder(device="cpu", batch_size=4, precision="fp32").encode(
        [SPACE_A, SPACE_B, OTHER]
    )
    assert float((vectors * exact).sum(axis=1).min()) > 0.999


def test_bf16_vectors_stay_close_to_fp32() -> None:
    texts = [SPACE_A, SPACE_B, OTHER, "short"]
    half = TextEncoder(device="cpu", precision="bf16").encode(texts)
    exact = TextEncoder(device="cpu", precision="fp32").encode(texts)
    assert float((half * exact).sum(axis=1).min()) > 0.9999


def test_bf16_vectors_barely_move_with_the_batch_around_them() -> None:
    # Padding to the batch's longest text changes bf16 sums (about 5e-4 a coordinate): a
    # text embedded with others must still be the same text alone, to cosine 0.9999.
    encoder = TextEncoder(device="cpu", batch_size=2, precision="bf16")
    texts = [OTHER, "short", SPACE_A, "a somewhat longer sentence than short", SPACE_B]
    batched = encoder.encode(texts)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert float((batched * alone).sum(axis=1).min()) > 0.9999


def test_an_unknown_precision_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="precision: expected one of auto, fp32, bf16, fp16"):
        TextEncoder(precision="int8").encode(["x"])

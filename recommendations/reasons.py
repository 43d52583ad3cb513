"""The sentences a member reads beside an item: one template per kind of reason."""

from __future__ import annotations


def segment_sentence(label: str, share: float, lift: float, *, placed_by: str = "") -> str:
    """ "liked by 34% of segment 'Sci-Fi x1.3' (x3.2 the average)", and, for a member placed
    rather than clustered, what placed them there."""
    sentence = f"liked by {share:.0%} of segment '{label}' (x{lift:.1f} the average)"
    return f"{sentence}, where {placed_by} places you" if placed_by else sentence

"""Turn items and members into short English texts for a sentence-embedding model.

Sentence encoders were trained on natural sentences, so records are written as prose
("A 24-year-old male student from 85711.") rather than "age=24;gender=M".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeGuard

GENDER_ADJECTIVES = {"M": "male", "F": "female"}
GENDER_NOUNS = {"M": "man", "F": "woman"}
# MovieLens's "none"/"other" occupations say nothing a sentence could use.
_VAGUE_OCCUPATIONS = {"", "none", "other", "unknown"}
# MovieLens files titles as "Usual Suspects, The"; the encoder reads "The Usual Suspects" better.
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<article>The|A|An)(?P<rest> \(.*\))?$")


def item_text(
    title: str, year: int | None = None, genres: Sequence[str] = (), description: str = ""
) -> str:
    """Describe an item: ``"Title (1995). Genres: Action, Sci-Fi. Description"``.

    Empty parts are left out; the genre ``"unknown"`` (MovieLens's placeholder) is dropped.
    """
    head = _natural_title(title or "")
    year_text = _year_text(year)
    if year_text:
        head = f"{head} ({year_text})" if head else f"Released {year_text}"
    named = [g.strip() for g in genres if g and g.strip() and g.strip().lower() != "unknown"]
    parts = [_sentence(head)]
    if named:
        parts.append(f"Genres: {', '.join(named)}.")
    parts.append(_sentence(description or ""))
    return " ".join(part for part in parts if part)


def member_profile_text(
    age: int | float | None,
    gender: str | None,
    occupation: str | None,
    location: str | None,
    profile: str = "",
) -> str:
    """Describe a member: ``"A 24-year-old male student from 85711."`` plus the free text.

    Missing fields are left out ("A student." / "A 30-year-old woman."); with nothing known the
    result is the free-text profile alone (possibly "").
    """
    age_text = f"{int(age)}-year-old" if _known_age(age) else ""
    gender_code = (gender or "").strip().upper()[:1]
    job = (occupation or "").strip()
    if job.lower() in _VAGUE_OCCUPATIONS:
        noun, adjective = GENDER_NOUNS.get(gender_code, "person"), ""
    else:
        noun, adjective = job, GENDER_ADJECTIVES.get(gender_code, "")
    where = f"from {location.strip()}" if location and location.strip() else ""
    if not (age_text or adjective or where or noun != "person"):
        return _sentence(profile or "")
    words = [w for w in (age_text, adjective, noun, where) if w]
    demographics = f"{_article(words[0])} {' '.join(words)}."
    return " ".join(part for part in (demographics, _sentence(profile or "")) if part)


def display_title(title: str, year: int | None) -> str:
    """How an item is named to people: "Alien (1979)", or the bare title without a year."""
    return f"{title} ({year})" if year else title


def _natural_title(title: str) -> str:
    match = _TRAILING_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    return f"{match['article']} {match['body']}{match['rest'] or ''}"


def _year_text(year: int | str | None) -> str:
    text = str(year).strip() if year is not None else ""
    return text if text.isdigit() and int(text) > 0 else ""


def _known_age(age: int | float | None) -> TypeGuard[int | float]:
    return age is not None and age == age and age > 0  # age == age is False for NaN


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def _article(word: str) -> str:
    # "an" before a vowel sound: "an 18-year-old", "an 80-year-old", "an engineer".
    lowered = word.lower()
    if lowered[:1] in "aeio" or lowered.startswith(("8", "11-", "18-")):
        return "An"
    return "A"

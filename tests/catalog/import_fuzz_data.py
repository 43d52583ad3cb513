"""Generated data sets for the import fuzzer: the values, their spellings, and the rows expected.

Every value is drawn together with the text a file spells it as, so what the database must
hold after a good import follows from the draw, not from the importer's own parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from catalog.importers.grouplens import GENRES

# The rows stored before each case carry '~' in their ids; no generated value holds one.
_PRINTABLE = st.characters(codec="utf-8", categories=["L", "N", "P", "S"], exclude_characters="~")
_SPACED = st.one_of(_PRINTABLE, st.just(" "))
# Letters from U+00C0 up only: as bytes they never spell valid UTF-8, which is refused.
_LATIN1_ID = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,'&!-:àéîõüßñøÀÉ"
)
_LATIN1 = st.one_of(_LATIN1_ID, st.just(" "))
UNIX_MAX = 4_102_444_799  # 2099-12-31T23:59:59Z, the last second accepted
_YYYYMMDD_BAND = (19_000_101, 20_991_231)  # refused as look-alike dates, so never drawn


@dataclass(frozen=True)
class Member:
    external_id: str
    age: int | None
    gender: str
    occupation: str
    location: str
    profile: str


@dataclass(frozen=True)
class Item:
    external_id: str
    title: str
    year: int | None
    genres: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Rating:
    member_id: str
    item_id: str
    value: float
    value_text: str
    rated_at: datetime | None
    rated_text: str


@dataclass(frozen=True)
class DataSet:
    members: tuple[Member, ...]
    items: tuple[Item, ...]
    ratings: tuple[Rating, ...]


def texts(
    alphabet: st.SearchStrategy[str], *, min_size: int = 0, max_size: int
) -> st.SearchStrategy[str]:
    """Text as the importer keeps it: it strips every value."""
    drawn = st.text(alphabet, min_size=min_size, max_size=max_size).map(str.strip)
    return drawn.filter(lambda text: len(text) >= min_size)


def identifiers(alphabet: st.SearchStrategy[str] = _PRINTABLE) -> st.SearchStrategy[str]:
    return st.one_of(
        texts(alphabet, min_size=1, max_size=12), texts(alphabet, min_size=64, max_size=64)
    )


@st.composite
def members(
    draw: Any, ids: list[str], *, text: st.SearchStrategy[str] = _SPACED
) -> tuple[Member, ...]:
    return tuple(
        Member(
            external_id=external_id,
            age=draw(st.none() | st.integers(0, 150)),
            gender=draw(texts(text, max_size=32)),
            occupation=draw(texts(text, max_size=64)),
            location=draw(texts(text, max_size=64)),
            profile=draw(texts(st.one_of(_SPACED, st.sampled_from('\n\t\r,"')), max_size=40)),
        )
        for external_id in ids
    )


@st.composite
def items(
    draw: Any,
    ids: list[str],
    *,
    text: st.SearchStrategy[str] = _SPACED,
    genre: st.SearchStrategy[str] | None = None,
) -> tuple[Item, ...]:
    if genre is None:
        genre = texts(_PRINTABLE.filter(lambda char: char != "|"), min_size=1, max_size=8)
    # A title never ends in ')', so no title reads as 'Title (1995)' by accident.
    titles = texts(text, min_size=1, max_size=300).filter(lambda title: not title.endswith(")"))
    return tuple(
        Item(
            external_id=external_id,
            title=draw(titles),
            year=draw(st.none() | st.integers(1, 9999)),
            genres=tuple(draw(st.lists(genre, max_size=3))),
            description=draw(texts(st.one_of(_SPACED, st.just("\n")), max_size=40)),
        )
        for external_id in ids
    )


@st.composite
def rating_values(draw: Any) -> tuple[float, str]:
    value = draw(st.integers(0, 10)) / 2
    spelling = draw(st.sampled_from(["{:g}", "{:.1f}", "{:e}", "+{:g}", "{:.3f}"]))
    return value, spelling.format(value)


@st.composite
def moments(draw: Any) -> tuple[datetime | None, str]:
    """A time and one of its accepted spellings: Unix seconds or an ISO 8601 form."""
    form = draw(st.sampled_from(["none", "unix", "unix.0", "iso_z", "iso_offset", "naive", "date"]))
    if form == "none":
        return None, ""
    if form == "date":
        day = draw(st.dates(date(1970, 1, 1), date(2099, 12, 31)))
        return datetime(day.year, day.month, day.day, tzinfo=UTC), day.isoformat()
    seconds = draw(
        st.integers(0, UNIX_MAX).filter(lambda s: not _YYYYMMDD_BAND[0] <= s <= _YYYYMMDD_BAND[1])
    )
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    if form.startswith("unix"):
        return moment, f"{seconds}.0" if form == "unix.0" else str(seconds)
    if form == "iso_z":
        return moment, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == "naive":
        return moment, moment.replace(tzinfo=None).isoformat(sep=draw(st.sampled_from("T ")))
    offset = timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60)))
    return moment, moment.astimezone(timezone(offset)).isoformat()


@st.composite
def ratings(draw: Any, member_ids: list[str], item_ids: list[str]) -> tuple[Rating, ...]:
    pairs = [(m, i) for m in member_ids for i in item_ids]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=8))
    out = []
    for member_id, item_id in chosen:
        value, value_text = draw(rating_values())
        rated_at, rated_text = draw(moments())
        out.append(Rating(member_id, item_id, value, value_text, rated_at, rated_text))
    return tuple(out)


@st.composite
def data_sets(draw: Any, *, latin1: bool = False, tsv: bool = False, genre: Any = None) -> DataSet:
    """Members, items and ratings; ``latin1``/``tsv`` keep to what those files can spell."""
    if latin1:
        ident, text = _LATIN1_ID, _LATIN1
    else:
        ident, text = _PRINTABLE, _SPACED
    if genre is None:
        genre = texts(ident.filter(lambda c: c != "|"), min_size=1, max_size=8)
    member_ids = draw(st.lists(identifiers(ident), min_size=1, max_size=5, unique=True))
    item_ids = draw(st.lists(identifiers(ident), min_size=1, max_size=5, unique=True))
    people = draw(members(member_ids, text=text))
    things = draw(items(item_ids, text=text, genre=genre))
    if tsv:  # no tabs or line breaks inside a field of a tab-separated file
        people = tuple(_one_line(m, "profile") for m in people)
        things = tuple(_one_line(i, "description") for i in things)
    return DataSet(people, things, draw(ratings(member_ids, item_ids)))


def _one_line(row: Any, name: str) -> Any:
    flat = " ".join(getattr(row, name).split())
    return type(row)(**{**vars(row), name: flat})


def expected_member(member: Member, columns: set[str]) -> dict[str, Any]:
    """``Member.to_dict()`` after importing a file with ``columns`` into an empty row."""
    full = {
        "member_id": member.external_id,
        "age": member.age,
        "gender": member.gender,
        "occupation": member.occupation,
        "location": member.location,
        "profile": member.profile,
    }
    blank = {"age": None}
    return {k: v if k == "member_id" or k in columns else blank.get(k, "") for k, v in full.items()}


def expected_item(item: Item, columns: set[str]) -> dict[str, Any]:
    full = {
        "item_id": item.external_id,
        "title": item.title,
        "year": item.year,
        "genres": list(item.genres),
        "description": item.description,
    }
    blank: dict[str, Any] = {"year": None, "genres": []}
    keep = {"item_id", "title"} | columns
    return {k: v if k in keep else blank.get(k, "") for k, v in full.items()}


def grouplens_genres(flags: tuple[str, ...]) -> list[str]:
    named = [genre for genre in GENRES if genre in flags]
    return [genre for genre in named if genre != "unknown"] or named

"""A planted "text-rich" catalogue: tastes live only in the meaning of the free texts.

Each member belongs to one of up to 8 taste groups (topics). Items of a group get an English
description about that topic; members of a group write a first-person profile about it. Within
a topic the two sides share no content word (:func:`content_words`), so linking a profile to
its items needs meaning - what a sentence encoder adds - not keyword overlap. Titles, genres,
years and demographics are drawn independently of the groups and carry no signal.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml.text.texts import item_text, member_profile_text
from tests.support.planted import GENRES, OCCUPATIONS

# Function words left out of :func:`content_words`; deliberately small.
STOPWORDS = frozenset(
    "about after also been before being could does each even every from have here into just "
    "many more most much only over some such than that their them then there these they this "
    "those through under until very were what when where which while will with would your".split()
)
_WORD = re.compile(r"[a-z]+")
_START = 1_577_836_800  # 2020-01-01T00:00:00Z


@dataclass(frozen=True)
class _Topic:
    """One topic's ``;``-separated pieces. Items: ``subjects`` (noun phrases), ``scenes``
    (sentences); profiles: ``habits`` ("I ..." clauses), ``wishes`` (lower-case clauses)."""

    name: str
    subjects: str
    scenes: str
    habits: str
    wishes: str


_TOPICS = (
    _Topic(
        "space exploration",
        "the crew of a lunar mission through months of training; a team of astronomers mapping "
        "distant galaxies; an astronaut stranded aboard an orbiting station; the engineers behind "
        "a robotic probe sent to Jupiter; a young girl who wants to become a cosmonaut; a comet "
        "hunter at a remote mountain observatory; the final flight of a space shuttle; researchers "
        "listening for signals from alien civilisations",
        "Footage from orbit shows Earth rising over the Moon; Huge telescopes reveal nebulae, "
        "pulsars and black holes; The countdown, the liftoff and the strange calm of zero gravity "
        "are shown in detail; Mission control fights to bring the capsule home safely; Its images "
        "of Saturn's rings are stunning; Spacesuits, gantries and booster engines fill every scene",
        "I never miss a rocket launch; I spend clear nights in my backyard looking at the planets; "
        "I read every article I can find about Mars; I go stargazing far from city lights whenever "
        "the sky is clear; I follow every NASA briefing live; I know the names of most "
        "constellations; I stay up late to watch meteor showers; I have a poster of the solar "
        "system above my desk",
        "one day I want to visit Mars myself; my dream is to float weightless above our planet; I "
        "would love to study astrophysics; I hope to see a total eclipse before I turn fifty; I "
        "often wonder whether we are alone in the universe; nothing excites me more than news "
        "about spaceflight",
    ),
    _Topic(
        "cooking",
        "a young chef opening her first restaurant; a family bakery that has made bread for four "
        "generations; the kitchen staff of a busy Paris bistro; a grandmother passing down her "
        "treasured dishes to her grandson; rival contestants in a pastry competition; a street "
        "vendor famous for his spicy noodles; a critic who travels the world tasting regional "
        "dishes; two brothers who run a smokehouse barbecue joint",
        "Every scene lingers on sizzling pans, fresh pasta and simmering sauces; Ovens roar, dough "
        "rises and flour covers every surface; The menu changes with the seasons and every plate "
        "is arranged with care; Garlic, ginger and chilli fill the screen with colour; A single "
        "collapsed souffle could cost them everything; The dinner service at the end is pure "
        "tension",
        "I try a new recipe every weekend; I love experimenting with curries and marinades; my "
        "friends say my homemade lasagne is the best in town; I keep a sourdough starter alive on "
        "my counter; I collect knives and cast iron skillets; I spend hours at the farmers market "
        "choosing ingredients; I host big feasts for my neighbours on holidays; I copy cooking "
        "techniques from television shows",
        "one day I want to open a small cafe; my dream is to take a culinary course in Italy; I "
        "would love to eat my way through Tokyo; I hope to write my own cookbook someday; nothing "
        "makes me happier than a table full of hungry guests; I am always hunting for the perfect "
        "bowl of ramen",
    ),
    _Topic(
        "gardening",
        "an elderly widower who restores an overgrown walled garden; a botanist searching for a "
        "rare orchid; the volunteers who run a community allotment; a florist racing to finish her "
        "display for a national competition; a landscape designer transforming a muddy lawn; the "
        "gardeners who care for a famous rose collection; a greenhouse nursery run by two sisters; "
        "a bonsai master and his patient apprentice",
        "Peonies, irises and lavender bloom across every frame; Compost, pruning shears and "
        "watering cans are never far away; The seasons turn as tiny sprouts become a riot of "
        "colour; A late frost threatens the blossoms on the eve of the judging; Hedges are trimmed "
        "and beds are weeded with loving care; Shot in soft light among ferns, vines and climbing "
        "roses",
        "I spend every spare hour digging in my yard; I grow succulents and cacti on my balcony; I "
        "talk to my houseplants every morning; I know the Latin names of most shrubs; I plant "
        "bulbs every autumn and wait impatiently for spring; I keep a journal of when each "
        "perennial flowers; I fertilise and mulch my borders all weekend; I swap cuttings with my "
        "neighbours",
        "one day I want a cottage with a huge flowerbed; my dream is to visit the tulip fields of "
        "Holland; I would love to design a Japanese zen courtyard; I hope to win a prize for my "
        "dahlias; nothing relaxes me like soil under my fingernails; I am always planning which "
        "perennials to add next",
    ),
    _Topic(
        "detective fiction",
        "a weary inspector hunting a serial poisoner; a private investigator hired to find a "
        "missing heiress; a forensic team racing to identify a body found in the river; a rookie "
        "officer who suspects her partner of corruption; a retired sleuth lured back for one last "
        "job; the homicide squad of a rain-soaked city; a journalist uncovering a decades-old "
        "killing; an amateur detective aboard a snowbound train",
        "Fingerprints, alibis and interrogations drive every twist; The suspects lie, the evidence "
        "vanishes and the clock keeps ticking; A chalk outline and a torn letter are the only "
        "leads; Stakeouts in parked cars stretch long into the night; The killer's identity stays "
        "hidden until the final minutes; Witnesses contradict each other at every turn",
        "I have read all of Agatha Christie twice; I can usually guess whodunit by the halfway "
        "point; I listen to podcasts about real investigations on my commute; I love piecing "
        "together clues before the big reveal; I follow famous unsolved cases online; I took a "
        "course in criminology for fun; I play whodunit board games with my friends; I notice tiny "
        "details that everyone else misses",
        "one day I want to solve a real cold case; my dream is to work as a police profiler; I "
        "would love to write a whodunit novel of my own; I hope to visit Baker Street in London; "
        "nothing beats the moment the culprit is unmasked; I often imagine how I would crack a "
        "locked-room puzzle",
    ),
    _Topic(
        "ocean sailing",
        "a lone yachtswoman attempting to circle the globe; the crew of a fishing trawler caught "
        "in a storm; a lighthouse keeper on a remote island; a family crossing the Atlantic on a "
        "small yacht; divers exploring a sunken galleon; a young deckhand aboard a tall ship; the "
        "coast guard searching for a lost ferry; a veteran captain racing in a regatta",
        "Towering waves, salt spray and howling wind fill the screen; The boat creaks and rolls "
        "through endless grey swells; Charts, compasses and ropes are the tools of survival; "
        "Ports, tides and shanties set the mood; Shot almost entirely at sea, far from any shore; "
        "The hull leaks and the mast cracks as the gale builds",
        "I spend my summers on the water in my little dinghy; I can tie a dozen different knots; I "
        "check the marine forecast every morning; I grew up by the beach and still swim every day; "
        "I love the smell of the docks at dawn; I help out on my uncle's catamaran; I read old "
        "logbooks of famous navigators; I go surfing whenever the surf is good",
        "one day I want to sail around the world; my dream is to live on a houseboat; I would love "
        "to cross the Pacific under canvas; I hope to skipper my own vessel someday; nothing calms "
        "me like a breeze coming off the bay; I often dream of the open ocean",
    ),
    _Topic(
        "jazz music",
        "a struggling saxophonist in New Orleans; a legendary trumpeter recording his last album; "
        "a piano prodigy preparing for a conservatory audition; a big band touring small towns in "
        "the fifties; the owner of a smoky Harlem nightclub; a singer searching for her voice "
        "after years of silence; a drummer and a cellist who start a trio; a street busker "
        "discovered by a famous producer",
        "Improvised solos, brass sections and swing rhythms carry the film; Every set ends with a "
        "standing ovation; The soundtrack is full of bebop, blues and ballads; Late-night jam "
        "sessions in basement clubs drive the plot; Rehearsals, stage fright and encores shape "
        "each chapter; The final concert is a triumph of harmony and rhythm",
        "I play the clarinet in a community ensemble; I collect vinyl from the golden era of "
        "Coltrane and Miles Davis; I go to live gigs at least twice a week; I practise scales on "
        "my guitar every evening; I know every Ella Fitzgerald song by heart; I sing in a choir on "
        "Thursday nights; I take lessons to master syncopation; I never miss the annual jazz "
        "festival in my town",
        "one day I want to play a gig at Ronnie Scott's; my dream is to lead my own quartet; I "
        "would love to learn the double bass; I hope to hear Wynton Marsalis live one day; nothing "
        "moves me like a good melody; I often hum tunes from old records",
    ),
    _Topic(
        "medieval history",
        "a young squire in the service of a crusading knight; the monks copying manuscripts in a "
        "remote abbey; a company of knights riding to the Holy Land; a blacksmith caught up in a "
        "peasant revolt; the builders of a great Gothic cathedral; a queen defending her castle "
        "during a long siege; a Viking chieftain feuding with a rival clan; a court jester who "
        "overhears a plot against the throne",
        "Swords, banners and suits of armour gleam in every battle; Torches flicker on stone walls "
        "as the plague spreads; Kings, bishops and barons scheme for the crown; Archers loose "
        "volleys from the battlements; Costumes and weapons are faithful to the period; Candlelit "
        "halls, moats and drawbridges set the scene",
        "I read books about the Middle Ages before bed; I visit ruined fortresses on every "
        "holiday; I take part in jousting reenactments dressed as a Templar; I know the dates of "
        "every English monarch; I shoot a wooden longbow every Saturday; I collect replica helmets "
        "and shields; I spend hours in museums studying tapestries and heraldry; I learned "
        "calligraphy to write like a twelfth-century scribe",
        "one day I want to live for a week like a medieval lord; my dream is to join a dig at a "
        "Saxon burial site; I would love to spend a night in a Norman keep; I hope to see the "
        "Bayeux Tapestry in person; nothing fascinates me more than tales of chivalry; I often "
        "imagine life in a feudal village",
    ),
    _Topic(
        "wildlife",
        "a wildlife ranger protecting elephants from poachers; a pride of lions on the Serengeti; "
        "a photographer tracking snow leopards in the Himalayas; a family of orangutans in a "
        "shrinking rainforest; a vet caring for orphaned rhinos; a pack of wolves through a harsh "
        "winter; the great migration of wildebeest across the savanna; a scientist living among "
        "mountain gorillas",
        "Cheetahs sprint, zebras graze and vultures circle overhead; Hidden cameras capture cubs "
        "taking their first steps; Predators and prey meet at the last waterhole; The footage of a "
        "hunt at dawn is breathtaking; Tusks, claws and feathers fill the frame; Its narrator "
        "speaks softly as the herd moves on",
        "I volunteer at the local animal shelter; I keep a list of every bird I have spotted; I "
        "donate to charities that save endangered species; I spend weekends hiking in national "
        "parks hoping to see deer; I have two dogs, three cats and a tortoise; I watch nature "
        "programmes with my kids; I read about animal behaviour for hours; I feed the foxes and "
        "hedgehogs that visit at night",
        "one day I want to go on safari in Kenya; my dream is to see a tiger in the wild; I would "
        "love to work at a zoo; I hope to volunteer at a sanctuary for bears; nothing makes me "
        "happier than watching birds at the feeder; I often think about studying zoology",
    ),
)
TOPICS: tuple[str, ...] = tuple(topic.name for topic in _TOPICS)
# Shared frames: "{}" is a topic's subject (items) or habit / wish (profiles).
ITEM_FRAMES = (
    "A quiet documentary that follows {}.", "A gripping drama about {}.",
    "This film tells the story of {}.", "An award-winning feature centred on {}.",
    "A warm, funny portrait of {}.", "A tense thriller following {}.",
)  # fmt: skip
PROFILE_FRAMES = (
    "{habit}, and {wish}.", "{habit}. {Wish}.", "Honestly, {habit}, and {wish}.",
    "People who know me say {habit}; {wish}.",
)  # fmt: skip
# Neutral title words, shared by every topic.
_TITLE_FIRST = (
    "Long", "Blue", "Second", "Quiet", "Last", "Open", "Silver", "Late", "Distant", "Golden",
    "Broken", "Little", "Empty", "Bright", "Small", "Other",
)  # fmt: skip
_TITLE_SECOND = (
    "Road", "Hour", "Chances", "Summer", "Window", "Promise", "Morning", "Door", "Letters",
    "Afternoon", "Weekend", "Goodbye", "Corner", "Street", "Days", "Answer",
)  # fmt: skip
_GENRE_POOL = tuple(g for g in GENRES if g != "unknown")


def _pieces(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(";"))


def content_words(text: str) -> set[str]:
    """Lower-cased alphabetic tokens of 4+ letters that are not in :data:`STOPWORDS`."""
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in STOPWORDS}


@dataclass(frozen=True, eq=False)  # eq=False: arrays make field-wise == ambiguous
class TextRichData:
    """Members, items and ratings of a text-rich planted catalogue.

    Attributes
    ----------
    member_ids, item_ids : list of str
        External ids, in index order.
    member_group, item_group : numpy.ndarray of int
        The planted group (index into :data:`TOPICS`) of each member and item.
    titles, years, genres, descriptions : list
        Item fields; only ``descriptions`` depends on the group.
    ages, genders, occupations, locations, profiles : list
        Member fields; only ``profiles`` depends on the group.
    users, items, values, timestamps : numpy.ndarray of int
        Ratings as parallel arrays: 0-based member and item indices, values 1-5 and Unix
        seconds, sorted by member then time.
    """

    member_ids: list[str]
    item_ids: list[str]
    member_group: np.ndarray
    item_group: np.ndarray
    titles: list[str]
    years: list[int]
    genres: list[tuple[str, ...]]
    descriptions: list[str]
    ages: list[int]
    genders: list[str]
    occupations: list[str]
    locations: list[str]
    profiles: list[str]
    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray

    def item_texts(self) -> list[str]:
        """Each item as :func:`ml.text.texts.item_text` writes it."""
        fields = (self.titles, self.years, self.genres, self.descriptions)
        return [item_text(*item) for item in zip(*fields, strict=True)]

    def profile_texts(self) -> list[str]:
        """Each member as :func:`ml.text.texts.member_profile_text` writes it."""
        fields = (self.ages, self.genders, self.occupations, self.locations, self.profiles)
        return [member_profile_text(*member) for member in zip(*fields, strict=True)]


def make_text_rich(
    *, n_members: int = 2000, n_items: int = 800, n_groups: int = 8, random_state: int = 0
) -> TextRichData:
    """Generate a text-rich catalogue with ``n_groups`` planted taste groups.

    Parameters
    ----------
    n_members, n_items : int
        Catalogue size; each must be at least ``n_groups`` (groups are balanced, so every
        group has members and items).
    n_groups : int
        Number of planted groups, 1 to ``len(TOPICS)``; group ``g`` is about ``TOPICS[g]``.
    random_state : int
        Seed; the same seed gives the same data.

    Returns
    -------
    TextRichData

    Notes
    -----
    History lengths are a mixture: 2-5 ratings (25% of members), 6-20 (25%) and 21-60
    (50%), capped by the catalogue. Each rating is, with probability 0.8, an item of the
    member's group (Zipf-like popularity over a random order of the group's items), otherwise
    a uniformly random item; no pair repeats (a group with fewer items than a member's own
    draws tops up with uniform picks, so small catalogues have a lower own-group share). Items
    of the member's group are mostly rated 4-5, others mostly 1-3. Timestamps increase per
    member from about 2020-01-01, about 4 days apart.
    """
    if not 1 <= n_groups <= len(TOPICS):
        raise ValueError(f"n_groups: expected 1 to {len(TOPICS)}, got {n_groups!r}")
    for name, value in (("n_members", n_members), ("n_items", n_items)):
        if value < n_groups:
            raise ValueError(f"{name}: expected at least n_groups ({n_groups}), got {value!r}")
    rng = np.random.default_rng(random_state)
    item_group = rng.permutation(np.arange(n_items) % n_groups)
    member_group = rng.permutation(np.arange(n_members) % n_groups)
    items = item_fields(rng, item_group)
    members = member_fields(rng, member_group)
    ratings = _make_ratings(rng, member_group, item_group)
    return TextRichData(
        [f"m{i + 1:0{max(4, len(str(n_members)))}d}" for i in range(n_members)],
        [f"i{i + 1:0{max(4, len(str(n_items)))}d}" for i in range(n_items)],
        member_group.astype(np.int64),
        item_group.astype(np.int64),
        *items,
        *members,
        *ratings,
    )


def item_fields(rng: np.random.Generator, groups: np.ndarray) -> tuple[list, ...]:
    n = len(groups)
    first = rng.integers(len(_TITLE_FIRST), size=n)
    second = rng.integers(len(_TITLE_SECOND), size=n)
    article = rng.random(n) < 0.5
    titles = [
        f"{'The ' if a else ''}{_TITLE_FIRST[f]} {_TITLE_SECOND[s]}"
        for a, f, s in zip(article, first, second, strict=True)
    ]
    years = [int(y) for y in rng.integers(1970, 2021, size=n)]
    genres = [
        tuple(str(g) for g in rng.choice(_GENRE_POOL, size=int(k), replace=False))
        for k in rng.integers(1, 3, size=n)
    ]
    descriptions = []
    for group in groups:
        topic = _TOPICS[group]
        frame = ITEM_FRAMES[rng.integers(len(ITEM_FRAMES))]
        subjects, scenes = _pieces(topic.subjects), _pieces(topic.scenes)
        subject, scene = subjects[rng.integers(len(subjects))], scenes[rng.integers(len(scenes))]
        descriptions.append(f"{frame.format(subject)} {scene}.")
    return titles, years, genres, descriptions


def member_fields(rng: np.random.Generator, groups: np.ndarray) -> tuple[list, ...]:
    n = len(groups)
    ages = [int(a) for a in rng.integers(15, 71, size=n)]
    genders = ["M" if male else "F" for male in rng.random(n) < 0.5]
    occupations = [OCCUPATIONS[o] for o in rng.integers(len(OCCUPATIONS), size=n)]
    locations = [f"{z:05d}" for z in rng.integers(100_000, size=n)]
    profiles = []
    for group in groups:
        topic = _TOPICS[group]
        habits, wishes = _pieces(topic.habits), _pieces(topic.wishes)
        habit, wish = habits[rng.integers(len(habits))], wishes[rng.integers(len(wishes))]
        frame = PROFILE_FRAMES[rng.integers(len(PROFILE_FRAMES))]
        profiles.append(frame.format(habit=habit, wish=wish, Wish=wish[0].upper() + wish[1:]))
    return ages, genders, occupations, locations, profiles


def _history_lengths(rng: np.random.Generator, n: int, n_items: int) -> np.ndarray:
    bucket = rng.choice(3, size=n, p=[0.25, 0.25, 0.5])
    low, high = np.array([2, 6, 21])[bucket], np.array([5, 20, 60])[bucket]
    return np.minimum(rng.integers(low, high + 1), n_items)


def _make_ratings(
    rng: np.random.Generator, member_group: np.ndarray, item_group: np.ndarray
) -> tuple[np.ndarray, ...]:
    n_items = len(item_group)
    group_items = [np.flatnonzero(item_group == g) for g in range(int(item_group.max()) + 1)]
    # Zipf-like popularity over a random order of each group's items.
    weights = [(1.0 + rng.permutation(len(pool))) ** -1.0 for pool in group_items]
    lengths = _history_lengths(rng, len(member_group), n_items)
    chosen = []
    for group, count in zip(member_group, lengths, strict=True):
        pool = group_items[group]
        n_own = min(int(rng.binomial(count, 0.8)), len(pool))
        # Weighted draws without replacement (Efraimidis-Spirakis): the smallest keys win.
        own = pool[np.argsort(rng.exponential(size=len(pool)) / weights[group])[:n_own]]
        keys = rng.random(n_items)
        keys[own] = 2.0  # never among the uniform picks
        rest = np.argsort(keys)[: count - n_own]
        chosen.append(rng.permutation(np.concatenate([own, rest])))
    items = np.concatenate(chosen).astype(np.int64)
    users = np.repeat(np.arange(len(member_group), dtype=np.int64), lengths)
    liked = item_group[items] == member_group[users]
    values = np.where(
        liked,
        rng.choice([2, 3, 4, 5], size=len(items), p=[0.03, 0.09, 0.4, 0.48]),
        rng.choice([1, 2, 3, 4, 5], size=len(items), p=[0.3, 0.35, 0.25, 0.07, 0.03]),
    ).astype(np.int64)
    # Per member: a start in the first 60 days of 2020, then gaps of about 4 days.
    elapsed = np.cumsum(rng.exponential(4 * 86_400.0, size=len(items)).astype(np.int64) + 60)
    before = np.concatenate([[0], elapsed[np.cumsum(lengths)[:-1] - 1]])
    starts = _START + rng.integers(0, 60 * 86_400, size=len(member_group))
    times = np.repeat(starts - before, lengths) + elapsed
    return users, items, values, times.astype(np.int64)


def write_csv(
    data: TextRichData, directory: str | Path, *, keep_ratings: np.ndarray | None = None
) -> dict[str, Path]:
    """Write ``members.csv``, ``items.csv`` and ``ratings.csv`` for ``manage.py import_csv``.

    Parameters
    ----------
    data : TextRichData
    directory : str or Path
        Created if missing; existing files of those names are replaced.
    keep_ratings : numpy.ndarray of bool, optional
        One flag per rating: only flagged ratings are written (all by default). Every member
        and item is written regardless, so members or items left without ratings are "new".

    Returns
    -------
    dict
        ``{"members": path, "items": path, "ratings": path}``.
    """
    keep = np.ones(len(data.users), bool) if keep_ratings is None else np.asarray(keep_ratings)
    if keep.dtype != bool or keep.shape != data.users.shape:
        raise ValueError(
            f"keep_ratings: expected a boolean mask of shape {data.users.shape}, "
            f"got dtype {keep.dtype} and shape {keep.shape}"
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    d = data
    members = (d.member_ids, d.ages, d.genders, d.occupations, d.locations, d.profiles)
    items = (d.item_ids, d.titles, d.years, ["|".join(g) for g in d.genres], d.descriptions)
    ratings = (
        [d.member_ids[u] for u in d.users[keep]],
        [d.item_ids[i] for i in d.items[keep]],
        d.values[keep].tolist(),
        d.timestamps[keep].tolist(),
    )
    tables = {
        "members": (("member_id", "age", "gender", "occupation", "location", "profile"), members),
        "items": (("item_id", "title", "year", "genres", "description"), items),
        "ratings": (("member_id", "item_id", "rating", "timestamp"), ratings),
    }
    paths = {}
    for name, (header, columns) in tables.items():
        paths[name] = folder / f"{name}.csv"
        with open(paths[name], "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(zip(*columns, strict=True))
    return paths

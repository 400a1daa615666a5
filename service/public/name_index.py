"""Name and code search for the public (domain.md §5: what the public may find).

Names are indexed by their two- and three-character pieces (``organization_name_gram``). A query
reads the index for its rarest piece (three-character pieces when it is long enough: they are far
more selective, so a query made of common pairs, 东莞市海, reads a short list) and confirms the
whole query against the name. Two-character queries (华为) are as direct as longer ones and
nothing scans the table.
A query made of code characters is also tried as a prefix of the USCC.

Names and queries are compared folded (``fold``): a traditional, full-width or variant form
finds the simplified name (華為 finds 华为, ＨＵＡＷＥＩ finds huawei).
"""

import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import opencc
from rapidfuzz import fuzz

from service import codes
from service.codes import USCC_ALPHABET
from service.errors import InvalidCode, InvalidQuery

MIN_QUERY, MAX_QUERY = 2, 50

# Variant characters (异体字) people type that OpenCC's traditional-to-simplified table leaves as
# they are. Two kinds, each checked against OpenCC 1.4 character by character:
# - the traditional form of these simplified characters folds to another one (鉅 -> 巨, 鍾 -> 钟,
#   餘 -> 余, 諮 -> 咨, 逕 -> 径), so without this a traditional query never finds a mainland
#   name written with 钜, 锺, 馀, 谘 or 迳;
# - variants the 1955 table of variant forms merged into a standard character and the 2013 table
#   did not restore, seen on Hong Kong and Taiwan signs and typed from them.
# Standard characters that are variants in other places (堃, 喆, 淼, 邨, 甯) stay themselves:
# registered names use them on purpose; a near miss is what suggestions are for.
VARIANTS = {
    "钜": "巨", "锺": "钟", "馀": "余", "谘": "咨", "迳": "径",
    "栢": "柏", "菓": "果", "凖": "准", "兎": "兔", "槪": "概", "皐": "皋", "敍": "叙", "衞": "卫",
    "汚": "污", "氷": "冰", "枱": "台", "粧": "妆", "糭": "粽", "衹": "只", "堦": "阶", "廸": "迪",
    "厛": "厅", "韮": "韭",
}


class _Folding(dict[int, int]):
    """Character by character, filled as characters are met: the variants, else OpenCC's
    single-character answer, repeated until nothing changes (薴 -> 苧 -> 苎), so folding twice is
    folding once. Not OpenCC's phrases: they fold a name and a piece of it differently (乾隆 keeps
    乾, 乾 alone is 干), and a query must fold to a piece of the name it is a piece of; 乾隆 folds
    to 干隆 in names and queries alike, which is all a search key needs. A character OpenCC would
    turn into several is left as it is: pieces keep their length."""

    MAX_ENTRIES = 150_000

    def __init__(self) -> None:
        super().__init__()
        self._converter = opencc.OpenCC("t2s")
        self._lock = threading.Lock()  # the converter is not documented as thread-safe

    def __missing__(self, code_point: int) -> int:
        character = chr(code_point)
        with self._lock:
            for _ in range(4):
                folded = VARIANTS.get(character) or self._converter.convert(character)
                if len(folded) != 1 or folded == character:
                    break
                character = folded
        # Bounded: every character ever met would be 1.1 million entries (about 100 MB a process)
        # for anyone who sends them all; the CJK blocks people type fit well below the bound.
        if len(self) < self.MAX_ENTRIES:
            self[code_point] = ord(character)
        return ord(character)


_FOLDING = _Folding()


def fold(text: str) -> str:
    """What the index stores and queries compare: full-width to half-width, lower case,
    traditional to simplified, variants to their standard character."""
    return unicodedata.normalize("NFKC", text).lower().translate(_FOLDING)


GRAM_SIZES = (2, 3)


def grams(name: str, sizes: tuple[int, ...] = GRAM_SIZES) -> set[str]:
    folded = fold(name)
    return {folded[i:i + n] for n in sizes for i in range(len(folded) - n + 1)}


@dataclass(frozen=True)
class SearchQuery:
    text: str  # folded, trimmed
    grams: tuple[str, ...]
    code_prefix: str | None  # upper-case, when the query could begin a USCC
    exact_code: str | None = None  # the query is a whole USCC
    org_code: str | None = None  # the query is a whole legacy organization code


class GramFrequencies:
    """How common each name piece is, to read the rarest one's postings.

    Counts are exact up to ``cap`` and kept per process for ``ttl`` seconds: piece frequencies
    move slowly, and recounting a common piece (有限: every other name) on every search would
    cost more than the search. A query whose pieces are all common but whose whole text is rare
    would otherwise read a long posting list for a handful of matches.
    """

    def __init__(self, *, cap: int = 200_000, ttl: float = 600.0, max_entries: int = 100_000) -> None:
        self.cap, self.ttl, self.max_entries = cap, ttl, max_entries
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def rarest(self, grams: tuple[str, ...], count: Callable[[str, int], int]) -> str:
        if len(grams) == 1:
            return grams[0]
        return min(grams, key=lambda gram: self.count(gram, count))

    def count(self, gram: str, count: Callable[[str, int], int]) -> int:
        now = time.monotonic()
        cached = self._counts.get(gram)
        if cached and now - cached[1] < self.ttl:
            return cached[0]
        value = count(gram, self.cap)
        with self._lock:
            if len(self._counts) >= self.max_entries:
                self._counts.clear()
            self._counts[gram] = (value, now)
        return value


FREQUENCIES = GramFrequencies()


def parse_query(raw: str) -> SearchQuery:
    text = " ".join(fold(raw).split())
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidQuery("a search cannot contain control characters", param="q")
    if len(text) < MIN_QUERY:
        raise InvalidQuery(f"a search needs at least {MIN_QUERY} characters", param="q")
    if len(text) > MAX_QUERY:
        raise InvalidQuery(f"a search has at most {MAX_QUERY} characters", param="q")
    compact = text.replace(" ", "").replace("-", "").upper()
    code_prefix = compact if len(compact) <= 18 and all(c in USCC_ALPHABET for c in compact) else None
    exact_code = org_code = None
    try:
        parsed = codes.parse_code(compact)
    except InvalidCode:
        pass
    else:
        exact_code, org_code = (parsed.value, None) if parsed.kind == "uscc" else (None, parsed.value)
    size = 3 if len(text) >= 3 else 2
    return SearchQuery(text, tuple(sorted(grams(text, (size,)))), code_prefix, exact_code, org_code)


# Suggestions for a search that found nothing: organizations whose names share pieces with the
# query, a bounded number of postings of its rarest few pieces, the closest of them by edit
# distance over the best-matching part of the name.
SUGGESTION_PIECES, SUGGESTION_POSTINGS, SUGGESTION_CANDIDATES, SUGGESTIONS = 3, 200, 40, 5
SUGGESTION_SCORE = 60.0
# Which pieces are rare enough to read is all a suggestion needs to know: counted to a low cap, at
# most the first 16 pieces of a long query.
SUGGESTION_FREQUENCIES = GramFrequencies(cap=2_000)
MAX_SUGGESTION_PIECES = 16


def suggestion_pieces(query: SearchQuery) -> tuple[str, ...]:
    """The two-character pieces of the query, spaces left out: a typo breaks at most two of them."""
    text = query.text.replace(" ", "")[:MAX_SUGGESTION_PIECES + 1]
    return tuple(sorted(grams(text, (2,))))


def closest_names(query: SearchQuery, names: list[tuple[str, str]]) -> list[str]:
    """Of (public name, search name) pairs, the public names closest to the query, best first."""
    text = query.text.replace(" ", "")
    scored = sorted(((fuzz.partial_ratio(text, search_name), public_name) for public_name, search_name in names),
                    key=lambda pair: (-pair[0], pair[1]))
    closest: list[str] = []
    for score, public_name in scored:
        if score >= SUGGESTION_SCORE and public_name not in closest:
            closest.append(public_name)
    return closest[:SUGGESTIONS]

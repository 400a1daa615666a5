"""Name and code search for the public (domain.md §5: what the public may find).

Names are indexed by their two- and three-character pieces (``organization_name_gram``). A query
reads the index for its rarest piece (three-character pieces when it is long enough: they are far
more selective, so a query made of common pairs, 东莞市海, reads a short list) and confirms the
whole query against the name. Two-character queries (华为) are as direct as longer ones and
nothing scans the table.
A query made of code characters is also tried as a prefix of the USCC.
"""

import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from service.codes import USCC_ALPHABET
from service.errors import InvalidQuery

MIN_QUERY, MAX_QUERY = 2, 50


def fold(text: str) -> str:
    """What the index stores and queries compare: full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


GRAM_SIZES = (2, 3)


def grams(name: str, sizes: tuple[int, ...] = GRAM_SIZES) -> set[str]:
    folded = fold(name)
    return {folded[i:i + n] for n in sizes for i in range(len(folded) - n + 1)}


@dataclass(frozen=True)
class SearchQuery:
    text: str  # folded, trimmed
    grams: tuple[str, ...]
    code_prefix: str | None  # upper-case, when the query could begin a USCC


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
        return min(grams, key=lambda gram: self._count(gram, count))

    def _count(self, gram: str, count: Callable[[str, int], int]) -> int:
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
    size = 3 if len(text) >= 3 else 2
    return SearchQuery(text, tuple(sorted(grams(text, (size,)))), code_prefix)

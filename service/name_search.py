"""Name and code search for the public (domain.md §5: what the public may find).

Names are indexed by their two-character pieces (``organization_name_gram``). A query of two or
more characters reads the index for its rarest piece and confirms the whole query against the
name, so two-character queries (华为) are as direct as longer ones and nothing scans the table.
A query made of code characters is also tried as a prefix of the USCC.
"""

import unicodedata
from dataclasses import dataclass

from service.codes import USCC_ALPHABET
from service.errors import InvalidQuery

MIN_QUERY, MAX_QUERY = 2, 50


def fold(text: str) -> str:
    """What the index stores and queries compare: full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def grams(name: str) -> set[str]:
    folded = fold(name)
    return {folded[i:i + 2] for i in range(len(folded) - 1)}


@dataclass(frozen=True)
class SearchQuery:
    text: str  # folded, trimmed
    grams: tuple[str, ...]
    code_prefix: str | None  # upper-case, when the query could begin a USCC


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
    return SearchQuery(text, tuple(sorted(grams(text))), code_prefix)

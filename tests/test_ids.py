"""Record ids: ULIDs in Crockford base32, sortable by time."""

import time

from hypothesis import given
from hypothesis import strategies as st

from db import ids

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def digits(value: int) -> str:
    """The ULID spelling of a 128-bit number, one 5-bit digit at a time (the reference)."""
    return "".join(CROCKFORD[(value >> (5 * (25 - i))) & 31] for i in range(26))


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_the_fast_encoder_spells_every_value_like_the_reference(value) -> None:
    assert ids.encode(value) == digits(value)


def test_ids_are_26_characters_and_sort_by_time() -> None:
    first = ids.ulid()
    time.sleep(0.002)
    second = ids.ulid()
    assert len(first) == 26 and set(first) <= set(CROCKFORD) and first < second
    assert ids.new_id("rec").startswith("rec_")

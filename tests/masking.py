"""Finds personal data (domain.md §5) in text: PRC resident ID numbers, mobile phone numbers and
bank card numbers, in the forms people type them (groups, spaces, hyphens, dots, +86, full-width
digits, a JSON escape).

The suite's own detector, written apart from service/records/personal_data.py (it imports nothing of the
service): a mistake shared by the masking and its check would pass unseen. It is stricter than the
masking about what counts, because it reads every public answer of the suite and must stay quiet on
what the registry prints: an ID number needs a province, a real birth date and (18 characters) a
right check character; a card number passes Luhn; a unified social credit code (checked the GB 32100
way) and the registry's ids (rec_..., obj_...) are set aside before anything is looked for.
"""

import re
import unicodedata
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PROVINCES = frozenset(str(code) for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
                                               43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82))
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_USCC_SHAPE = re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NP-RTUW-Y]{18}(?![0-9A-Za-z])")
_REGISTRY_ID = re.compile(r"(?<![0-9A-Za-z])[a-z]{2,8}_[0-9A-Za-z]{10,}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# A fine of 13 or more digits (the API takes up to 10^13) passes Luhn one time in ten: an amount.
_FINE_AMOUNT = re.compile(r'"fine_amount":\s*"?[0-9.]+"?')

# Between digit groups people put a space, a hyphen (of any width), a dot or a middle dot.
_SEP = r"[ \-.·\u2010-\u2015]{0,2}"
# Overlapping candidates (a lookahead at every place a number may begin), judged afterwards.
_RESIDENT_ID = re.compile(r"(?=(?<!\d)(\d(?:" + _SEP + r"\d){16}" + _SEP + r"[\dXx])(?![\dXx]))", re.ASCII)
_OLD_RESIDENT_ID = re.compile(r"(?=(?<!\d)(\d{6}" + _SEP + r"\d{6}" + _SEP + r"\d{3})(?!\d))", re.ASCII)
_MOBILE = re.compile(r"(?=(?<![\d+])((?:(?:\+|00)?86" + _SEP + r")?(1[3-9]\d" + _SEP + r"\d{4}" + _SEP
                     + r"\d{4}))(?!\d))", re.ASCII)
# Cards: one run, or groups of four as printed on the card (looser groupings read dates as cards).
_CARD = re.compile(r"(?=(?<!\d)(\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?)(?!\d))", re.ASCII)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9X]", "", text.upper())


def _uscc_valid(code: str) -> bool:
    total = sum(_USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
    return _USCC_ALPHABET[(31 - total % 31) % 31] == code[17]


def _born(year: int, month: str, day: str) -> bool:
    try:
        return 1900 <= year <= 2099 and bool(date(year, int(month), int(day)))
    except ValueError:
        return False


def _resident_id(number: str) -> bool:
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return (number[:2] in _PROVINCES and _born(int(number[6:10]), number[10:12], number[12:14])
            and "10X98765432"[total % 11] == number[17])


def _old_resident_id(number: str) -> bool:
    return number[:2] in _PROVINCES and _born(1900 + int(number[6:8]), number[8:10], number[10:12])


def _luhn(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def _readable(text: str) -> str:
    """The text as a reader sees it: JSON escapes decoded, full-width forms as ASCII (NFKC), and the
    registry's codes, ids and fine amounts blanked to spaces."""
    text = unicodedata.normalize("NFKC", _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    text = _FINE_AMOUNT.sub(lambda m: " " * len(m.group()), _REGISTRY_ID.sub(lambda m: " " * len(m.group()), text))
    return _USCC_SHAPE.sub(lambda m: " " * 18 if _uscc_valid(m.group()) else m.group(), text)


def _candidates(text: str) -> list[tuple[int, int, int, str]]:
    """(rank, start, end, hit); where candidates overlap the lower rank is the reading kept. Luhn
    passes one number in ten, so the readings with more to check come first: a mobile number with
    its country code (0086 and 11 digits), an old ID number (a province and a birth date)."""
    found = []
    for rank, pattern, kind, valid in ((0, _RESIDENT_ID, "resident ID", _resident_id),
                                       (2, _OLD_RESIDENT_ID, "resident ID", _old_resident_id),
                                       (3, _CARD, "bank card", _luhn)):
        found += [(rank, *m.span(1), f"{kind} {_digits(m.group(1))}")
                  for m in pattern.finditer(text) if valid(_digits(m.group(1)))]
    for m in _MOBILE.finditer(text):
        found.append((1 if m.group(1) != m.group(2) else 4, *m.span(1), f"mobile phone {_digits(m.group(2))}"))
    return found


def find_personal_data(text: str) -> list[str]:
    """Each piece of personal data in ``text``, as "<kind> <its digits>", in the order they appear."""
    if not any(c.isdigit() for c in text):
        return []
    taken: list[tuple[int, int, str]] = []
    for _, start, end, hit in sorted(_candidates(_readable(text))):
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, hit))
    return [hit for _, _, hit in sorted(taken)]

"""Personal data in free text (domain.md §5), masked before anything is published.

Departments type what they type: a penalty that names the person fined with an ID number, a
reason with a phone number. The public text of every field is computed here when the record (or
organization) is written, and only that text is ever published; the original stays with the
departments that may see the record.

What counts, on a text whose full-width digits and signs are read as ASCII (a person typing in a
Chinese input method writes １３９...):
- resident ID numbers: a province's code, 15 digits and a check character, whatever the check
  character (a typo is still a person's number), and the old 15-digit form; an 18-character token
  that reads as a USCC (its check character right, a province or national authority) and whose ID
  check character is wrong is a USCC and stays (a person's typo that happens to be a valid code
  too, about 1 in 31 of typos from some regions, is then shown: the price of not masking codes);
- mobile numbers (1[3-9] and 9 digits, with +86/0086/86, spaces or hyphens) and landlines
  (0 and a 2-3 digit area code, a 7-8 digit number not starting with 0 or 1, an extension);
- bank card numbers: 13-19 digits (spaces or hyphens between) passing Luhn, unless a valid USCC;
- e-mail addresses, except an organization's role mailboxes (service@, info@...).
Kept visible, as common practice does: an ID's first 6 and last 4, a phone's first 3 and last 4,
a card's first 4 and last 4, the first character of an e-mail's local part and its domain.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from service.codes import USCC_ALPHABET, uscc_check_digit_valid
from service.regions import PROVINCES

# Full-width digits, letters and signs read as their ASCII twins, and every kind of space (the
# no-break space of text pasted from a word processor, tabs) as a space, one character for one,
# so a match's position in the read text is its position in the original. Dashes too, U+2015
# among them: Windows' GBK code page gives it for the Chinese dash (GB18030 gives U+2014).
_AS_ASCII = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                           **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
                           **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
                           **{chr(c): " " for c in range(0x3001) if unicodedata.category(chr(c)) == "Zs"},
                           "\t": " ", "＋": "+", "－": "-", "＠": "@", "．": ".", "（": "(", "）": ")",
                           "·": ".", "・": ".", "‧": ".", "\u2010": "-", "\u2011": "-", "\u2012": "-",
                           "\u2013": "-", "\u2014": "-", "\u2015": "-", "\uFE63": "-", "\u2212": "-"})

# A number is bounded by anything but a digit: letters before it (Tel13912345678, ID110101...)
# do not hide it. A number inside a unified social credit code is the code's (checked below).
_EDGE, _END = r"(?<!\d)", r"(?!\d)"
# Between digit groups people put a space, a hyphen or a dot, sometimes two.
_SEP = r"(?:[ .-]{1,2})?"
# Candidates are searched at every place a digit run begins (lookahead: overlapping), then judged;
# the best of those that overlap wins (see _find). ASCII: other scripts' digits are no digits.
_RESIDENT_ID = re.compile(r"(?=(" + _EDGE + r"[1-8]\d(?:" + _SEP + r"\d){15}" + _SEP + r"[0-9Xx]" + _END + "))",
                          re.ASCII)
_RESIDENT_ID_15 = re.compile(r"(?=(" + _EDGE + r"[1-8]\d{5}" + _SEP + r"\d{6}" + _SEP + r"\d{3}" + _END + "))",
                             re.ASCII)
_MOBILE = re.compile(r"(?=((?<![\d+])(?:(?:\+|00)?86" + _SEP + r")?(1[3-9]\d(?:" + _SEP + r"\d){8})" + _END + "))",
                     re.ASCII)
_LANDLINE = re.compile(r"(?=((?<![\d+])(?:(?:\+|00)86" + _SEP + r"\(?0?|\(?0)(\d{2,3})\)?" + _SEP
                       + r"([2-9]\d{2,3}" + _SEP + r"\d{4})(?:" + _SEP + r"(?:转|ext\.?|-) ?\d{1,6})?" + _END + "))",
                       re.ASCII)
# Cards: one run of digits, or groups of four (as printed on the card); looser groupings would
# read two dates side by side as a card one time in ten.
_CARD = re.compile(r"(?=(" + _EDGE + r"(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?)" + _END + "))", re.ASCII)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", re.ASCII)
_CODE_CHARACTERS = re.compile(r"[0-9A-Za-z]*", re.ASCII)
_MAYBE = re.compile(r"[0-9@]")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARACTERS = frozenset(USCC_ALPHABET)
ROLE_MAILBOXES = frozenset({"service", "services", "info", "contact", "support", "admin", "office", "sales",
                            "hr", "kefu", "webmaster", "postmaster", "noreply", "no-reply", "press", "media",
                            "marketing", "help", "feedback", "public", "xinxi", "tousu", "jubao"})

KINDS = ("resident_id", "phone", "bank_card", "email")


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: frozenset[str]  # what was found: resident_id, phone, bank_card, email


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text).upper()


def resident_id_check_valid(number: str) -> bool:
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _is_uscc(number: str) -> bool:
    # Letters no code has (I, O, S, V, Z: Mobile13912345678x) first: the check digit's table has none
    # of them. A code's positions 3-8 are its authority's division: a province's, or national (10).
    return (len(number) == 18 and set(number) <= _USCC_CHARACTERS and uscc_check_digit_valid(number)
            and (number[2:4] in PROVINCES or number[2:4] == "10"))


def _birth_date(digits: str) -> bool:
    """YYYYMMDD (or YYMMDD, 1900s) of a living person."""
    year, rest = (int(digits[:4]), digits[4:]) if len(digits) == 8 else (1900 + int(digits[:2]), digits[2:])
    try:
        return 1900 <= year <= 2099 and bool(date(year, int(rest[:2]), int(rest[2:4])))
    except ValueError:
        return False


def _is_resident_id(number: str) -> bool:
    """An 18-character ID number: its holder's province first, then a real birth date (whatever the
    check character: a typo is still a person's number) or a right check character. What also reads
    as a valid USCC is an ID number only with both (a person's number wins that tie)."""
    if number[:2] not in PROVINCES:
        return False
    born, check = _birth_date(number[6:14]), resident_id_check_valid(number)
    return born and check if _is_uscc(number) else born or check


def _inside_code(text: str, start: int, end: int) -> bool:
    """Whether the match is part of a unified social credit code written around it."""
    left = start
    while left > 0 and text[left - 1].isascii() and text[left - 1].isalnum():
        left -= 1
    run = _CODE_CHARACTERS.match(text, left)
    token = run.group() if run else ""
    return len(token) == 18 and left + 18 >= end and _is_uscc(token.upper())


def _candidates(text: str) -> list[tuple[int, int, int, str, str]]:
    """(rank, start, end, kind, replacement) of everything that reads as personal data; a lower
    rank wins where candidates overlap (an ID written without separators before one read across
    two numbers)."""
    found: list[tuple[int, int, int, str, str]] = []
    for match in _EMAIL.finditer(text):
        local, domain = match.group().split("@", 1)
        if local.lower() not in ROLE_MAILBOXES:
            found.append((0, match.start(), match.end(), "email", f"{local[0]}***@{domain}"))
    for match in _RESIDENT_ID.finditer(text):
        number, span = _digits(match.group(1)), match.span(1)
        if _is_resident_id(number):
            rank = 1 if len(match.group(1)) == 18 else 2
            found.append((rank, *span, "resident_id", number[:6] + "*" * 8 + number[-4:]))
    for match in _RESIDENT_ID_15.finditer(text):
        number = _digits(match.group(1))
        if number[:2] in PROVINCES and _birth_date(number[6:12]):
            found.append((3, *match.span(1), "resident_id", number[:6] + "*" * 5 + number[-4:]))
    for match in _MOBILE.finditer(text):
        number = _digits(match.group(2))
        found.append((4, *match.span(1), "phone", f"{number[:3]}****{number[-4:]}"))
    for match in _CARD.finditer(text):
        number = _digits(match.group(1))
        if luhn_valid(number) and not _is_uscc(number):
            found.append((5, *match.span(1), "bank_card", number[:4] + "*" * (len(number) - 8) + number[-4:]))
    for match in _LANDLINE.finditer(text):
        area, number = match.group(2), _digits(match.group(3))
        found.append((6, *match.span(1), "phone", f"0{area}-****{number[-4:]}"))
    return found


def _find(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, replacement) of every piece of personal data, not overlapping."""
    taken: list[tuple[int, int, str, str]] = []
    for _, start, end, kind, replacement in sorted(_candidates(text)):
        # An ID number has been weighed against the code it may also read as (_is_resident_id).
        if kind in ("phone", "bank_card") and _inside_code(text, start, end):
            continue
        if all(end <= s or start >= e for s, e, _, _ in taken):
            taken.append((start, end, kind, replacement))
    return sorted(taken)


def mask(text: str) -> Masked:
    """``text`` with every piece of personal data in it masked."""
    read = text.translate(_AS_ASCII)
    if not _MAYBE.search(read):  # most text has no digit and no @: nothing to look for
        return Masked(text, frozenset())
    found = _find(read)
    if not found:
        return Masked(text, frozenset())
    pieces, position = [], 0
    for start, end, _, replacement in found:
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return Masked("".join(pieces), frozenset(kind for _, _, kind, _ in found))


def mask_fields(values: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """Each text value of ``values`` masked; and the names of the fields that were, in order."""
    public: dict[str, object] = {}
    masked: list[str] = []
    for name, value in values.items():
        if isinstance(value, str):
            result = mask(value)
            if result.kinds:
                masked.append(name)
            value = result.text
        public[name] = value
    return public, masked

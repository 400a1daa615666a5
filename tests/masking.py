"""Finds personal data (domain.md §5) in text: PRC resident ID numbers, mobile phone numbers and
bank card numbers. Checksums keep unified social credit codes and dates from counting."""

import re

from service.codes import uscc_check_digit_valid

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_CARD = re.compile(r"(?<![0-9A-Za-z])\d{16,19}(?![0-9A-Za-z])")


def _id_valid(number: str) -> bool:
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _luhn(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def find_personal_data(text: str) -> list[str]:
    hits = [f"resident ID {m}" for m in _ID.findall(text) if _id_valid(m)]
    hits += [f"mobile phone {m}" for m in _MOBILE.findall(text)]
    hits += [f"bank card {m}" for m in _CARD.findall(text)
             if _luhn(m) and not (len(m) == 18 and uscc_check_digit_valid(m)) and not _id_valid_safe(m)]
    return hits


def _id_valid_safe(number: str) -> bool:
    return len(number) == 18 and bool(_ID.fullmatch(number)) and _id_valid(number)

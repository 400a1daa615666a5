"""Organization codes: the Unified Social Credit Code (GB 32100-2015) and the legacy
organization code (GB 11714-1997). See domain.md §2.

Every code that enters the registry passes through ``parse_code``: it accepts what people type
(full-width characters, lower case, spaces, hyphens) and either returns the canonical form or
raises ``InvalidCode`` with a sentence that says exactly what is wrong.
"""

import unicodedata
from dataclasses import dataclass
from typing import Literal

from service.errors import InvalidCode

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: never I, O, S, V, Z
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

ORG_CODE_BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_VALUE = {c: i for i, c in enumerate(ORG_CODE_BODY_ALPHABET)}
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Characters people put between groups of a code; dropped before validation.
_SEPARATORS = {" ", "-", "\u00a0", "\u3000", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"}
MAX_INPUT = 64


@dataclass(frozen=True)
class ParsedCode:
    kind: Literal["uscc", "org_code"]
    value: str  # canonical: 18-char USCC or 9-char organization code without hyphen


def normalize(raw: str) -> str:
    """Trim, fold full-width to half-width (NFKC), upper-case, drop spaces and hyphens."""
    folded = unicodedata.normalize("NFKC", raw).strip().upper()
    return "".join(c for c in folded if c not in _SEPARATORS)


def uscc_check_character(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_character(body8: str) -> str:
    total = sum(_ORG_VALUE[c] * w for c, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _describe(char: str, *, quoted: bool = True) -> str:
    if not char.isprintable() or char.isspace():
        return f"U+{ord(char):04X}"
    return repr(char) if quoted else char


def _check_characters(code: str, allowed: str, *, what: str, digits_at: range = range(0)) -> None:
    for position, char in enumerate(code, start=1):
        if position - 1 in digits_at and not char.isdigit():
            raise InvalidCode(
                f"{what}: character {position} ({_describe(char)}) must be a digit "
                "(positions 3-8 are the administrative division code)"
            )
        if char not in allowed:
            hint = " (I, O, S, V and Z are never used)" if char in "IOSVZ" else ""
            raise InvalidCode(f"{what}: character {position} ({_describe(char)}) is not allowed{hint}")


def validate_uscc(code: str, *, allow_nonconforming: bool = False) -> str:
    """Validate a normalized 18-character USCC and return it.

    ``allow_nonconforming`` accepts a wrong check character (early pilot codes that were legally
    issued); callers must then record that the check digit is not valid.
    """
    if len(code) != 18:
        raise InvalidCode(f"a unified social credit code has 18 characters, got {len(code)}")
    _check_characters(code, USCC_ALPHABET, what="unified social credit code", digits_at=range(2, 8))
    body = code[8:16]
    expected_body_check = org_code_check_character(body)
    expected = uscc_check_character(code[:17])
    if allow_nonconforming:
        return code
    if code[16] != expected_body_check:
        raise InvalidCode(
            f"the organization code in positions 9-17 is invalid: "
            f"character 17 should be {expected_body_check}, got {code[16]}"
        )
    if code[17] != expected:
        raise InvalidCode(f"check character should be {expected}, got {code[17]}")
    return code


def validate_org_code(code: str) -> str:
    """Validate a normalized 9-character legacy organization code and return it."""
    if len(code) != 9:
        raise InvalidCode(f"an organization code has 9 characters, got {len(code)}")
    _check_characters(code[:8], ORG_CODE_BODY_ALPHABET, what="organization code")
    expected = org_code_check_character(code[:8])
    if code[8] != expected:
        raise InvalidCode(f"check character should be {expected}, got {_describe(code[8], quoted=False)}")
    return code


def parse_code(raw: str) -> ParsedCode:
    """Parse any typed form of a USCC (18) or legacy organization code (9)."""
    if len(raw) > MAX_INPUT:
        raise InvalidCode(f"an organization code has 18 (or legacy 9) characters, got {len(raw)}")
    code = normalize(raw)
    if len(code) == 9:
        return ParsedCode("org_code", validate_org_code(code))
    if len(code) == 18:
        return ParsedCode("uscc", validate_uscc(code))
    raise InvalidCode(
        f"an organization code has 18 characters (unified social credit code) "
        f"or 9 (legacy organization code), got {len(code)}"
    )


def parse_uscc(raw: str, *, allow_nonconforming: bool = False) -> str:
    """Parse a code that must be a full USCC (registration needs all 18 characters)."""
    code = normalize(raw)
    return validate_uscc(code, allow_nonconforming=allow_nonconforming)


def uscc_check_digit_valid(uscc: str) -> bool:
    return uscc[16] == org_code_check_character(uscc[8:16]) and uscc[17] == uscc_check_character(uscc[:17])


def org_code_of(uscc: str) -> str:
    return uscc[8:17]


def display_org_code(org_code: str) -> str:
    return f"{org_code[:8]}-{org_code[8]}"


def region_of(uscc: str) -> str:
    """Positions 3-8: the GB/T 2260 division code of the registering authority."""
    return uscc[2:8]


def make_uscc(prefix2: str, region: str, body8: str) -> str:
    """Build a valid USCC from its parts (demo data, tests)."""
    org_code = body8 + org_code_check_character(body8)
    first17 = prefix2 + region + org_code
    return first17 + uscc_check_character(first17)

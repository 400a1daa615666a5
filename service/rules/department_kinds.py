"""The kinds of department the registry knows: who decides records, and who applies which measure
(the measures catalogue names kinds, not departments)."""

from typing import Literal, get_args

DepartmentKind = Literal["market_regulation", "tax", "customs", "bank", "insurer", "finance", "development_reform",
                         "public_resources", "other"]
DEPARTMENT_KINDS: tuple[str, ...] = get_args(DepartmentKind)

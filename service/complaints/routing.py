"""Where a complaint goes: the market-regulation department of the organization's region, the
nearest one walking up county -> city -> province; else (no such department, or a product with
no producer named) the administrators, who route it by hand."""

from sqlmodel import Session

from db.repositories.complaints import ComplaintRepository
from db.tables import Department


def divisions_upward(region_code: str) -> list[str]:
    """440305 -> [440305, 440300, 440000]; 440300 -> [440300, 440000]; 440000 -> [440000]."""
    chain = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(code for code in chain if len(code) == 6 and code.isdigit()))


def handling_department(session: Session, region_code: str | None) -> Department | None:
    """The nearest market-regulation department above (or at) the region; None: the administrators.
    Two at one division: the first by code, so the same complaint always goes to the same one."""
    if not region_code:
        return None
    chain = divisions_upward(region_code)
    found = ComplaintRepository(session).market_regulators(chain)
    for division in chain:
        for department in found:
            if department.region_code == division:
                return department
    return None

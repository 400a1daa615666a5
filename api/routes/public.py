"""Public API: no login. The hottest path of the service lives here; keep it lean."""

from fastapi import APIRouter, Path

from api.deps import ReadConnection, Today
from api.problems import problem_responses
from api.schemas.public import OrganizationProfile
from service import public
from service.public import PublicProfile

router = APIRouter(prefix="/v1/public", tags=["public"])

CodePath = Path(
    description="USCC (18 characters) or legacy organization code (9), in any typed form: "
    "lower case, full-width, spaces and hyphens are accepted",
    examples=["914403001922038216", "91440300 7084 6113 6t", "19220382-1"],
    max_length=64,
)


@router.get(
    "/organizations/{code}",
    response_model=OrganizationProfile,
    operation_id="get_public_organization",
    responses=problem_responses(404, 422),
)
def get_public_organization(code: str = CodePath, *, conn: ReadConnection, today: Today) -> PublicProfile:
    """An organization's public profile: name, codes, region, status, current grade, red/black list
    status and its active public records (summary fields only).

    An invalid code answers 422 saying what is wrong (e.g. "check character should be 6"); a valid
    code that is not registered answers 404.
    """
    return public.profile(conn, code, today=today)

"""Public API: no login. The hottest path of the service lives here; keep it lean."""

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from api.answers import json_read
from api.deps import Cursor, Limit, Today, read_in_event_loop, today_of
from api.problems import problem_responses
from api.schemas.public import OrganizationProfile
from service.codes import MAX_INPUT as CODE_MAX_LENGTH
from service.public import organizations
from service.public.organizations import PublicProfile

router = APIRouter(prefix="/v1/public", tags=["public"])

_CODE_DESCRIPTION = ("USCC (18 characters) or legacy organization code (9), in any typed form: "
                     "lower case, full-width, spaces and hyphens are accepted")
_CODE_PARAMETER = {"name": "code", "in": "path", "required": True, "description": _CODE_DESCRIPTION,
                   "schema": {"type": "string", "title": "Code", "maxLength": CODE_MAX_LENGTH,
                              "description": _CODE_DESCRIPTION,
                              "examples": ["914403001922038216", "91440300 7084 6113 6t", "19220382-1"]}}

RegionQuery = Query(None, min_length=2, max_length=30, examples=["350000", "福州市"],
                    description="A division and everything below it: its 6-digit code (350000 Fujian, 350100 "
                                "Fuzhou), a code prefix (44 Guangdong, 4403 Shenzhen) or its name (福建省, 福州, "
                                "Fujian); a name several divisions share is refused with the candidates")
ListQuery = Query(None, description="Only organizations on this list")


@router.get("/organizations", response_model=organizations.SearchPage, operation_id="search_organizations",
            responses=problem_responses(422, 429))
async def search_organizations(
    request: Request, today: Today,
    q: str = Query(min_length=1, max_length=50, description="Part of the name (2+ characters, e.g. 华为) "
                   "or the beginning of a code", examples=["华为"]),
    region: str | None = RegionQuery, list: Literal["red", "black"] | None = ListQuery,
    limit: Limit = 50, cursor: Cursor = None,
) -> Response:
    """Search organizations by name (any two or more consecutive characters of it) or by their
    unified social credit code (or its beginning) or legacy organization code, page by page.

    Traditional, full-width and common variant characters find the simplified name (華為 finds
    华为). Results are ranked: the whole code, the beginning of the code, the whole name, names
    that start with the query, then names that contain it; each item's `match` says which. A
    search that finds nothing answers a few close public names in `suggestions` ("did you mean")."""
    return await json_read(request, organizations.SearchPage, lambda conn: organizations.search(
        conn, q, today=today, region=region, list_name=list, cursor=cursor, limit=limit))


@router.get(
    "/organizations/{code}",
    response_model=OrganizationProfile,
    operation_id="get_public_organization",
    responses=problem_responses(404, 422),
    # Documented here and read from the path by hand: FastAPI's parameter machinery cost a fifth
    # of this route's throughput (bench/lookup.py), and parse_code checks the code (and its
    # length) with messages of its own anyway.
    openapi_extra={"parameters": [_CODE_PARAMETER]},
)
async def get_public_organization(request: Request) -> Response:
    """An organization's public profile: name, codes, region, status, current grade, red/black list
    status and its active public records (summary fields only).

    An invalid code answers 422 saying what is wrong (e.g. "check character should be 6"); a valid
    code that is not registered answers 404.
    """
    # Async, reading in the event loop: the two indexed reads take well under a millisecond, far
    # less than a hop to the thread pool and back; the answer is serialized once, straight to bytes.
    code = request.path_params["code"]
    as_of = today_of(request)
    found = read_in_event_loop(request, lambda conn: organizations.profile(conn, code, today=as_of))
    return Response(_PROFILE.dump_json(found), media_type="application/json")


_PROFILE = TypeAdapter(PublicProfile)  # the same fields as OrganizationProfile (the documented shape)

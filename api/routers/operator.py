"""The contact centre's intake helpers (the operator's page, /operator):

- `GET /api/v1/categories/search?q=`: categories by the words callers use ("яма" →
  «Ремонт та укладання асфальтного покриття»), from categories.keywords and the names
  (gis/category_search.py); public, as the category list is;
- `GET /api/v1/callers?phone=|email=`: a caller's earlier appeals and the data they gave
  (gis/callers.py) for the contact centre's roles; a read of personal data, logged per
  appeal, so a cookie session must send its CSRF token even on this GET.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow, public
from api.security import csrf_required
from gis import callers, category_search, councils
from gis.intake import OPERATOR_ROLES

router = APIRouter(prefix="/api/v1", tags=["operator"])


@router.get(
    "/categories/search",
    response_model=schemas.CategorySearch,
    name="categories_search",
    dependencies=[public()],
)
async def search_categories(
    conn: ConnDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    council: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    """Sub-kinds (and kinds without sub-kinds) that the words name, best first (at most 10),
    each with `matched`, the keyword that matched; with `council` (slug or KATOTTH code),
    among what that council offers."""
    named = await councils.resolve(conn, council) if council else None
    return await category_search.search(conn, q, council=named)


@router.get(
    "/callers",
    response_model=schemas.CallerLookup,
    name="callers",
    dependencies=[csrf_required()],
)
async def find_caller(
    principal: Annotated[Principal, allow(*OPERATOR_ROLES)],
    conn: ConnDep,
    phone: Annotated[str | None, Query(max_length=100)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> dict:
    """The caller's data as last given and their appeals, newest first (at most 20); each
    appeal shown is logged in personal_data_access (purpose "caller:intake")."""
    return await callers.find(conn, principal, phone=phone, email=email)

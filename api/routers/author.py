"""What the holder of an author's link does (gis/author_links.py): the links of the author's
notifications open portal pages (/a/{number}, /a/{number}/unsubscribe, api/routers/portal.py)
whose buttons POST here with the link's token in the JSON body.

- author-confirm {token, comment?}: the answer is accepted, on_check → closed
  («Виконано / Підтверджено заявником»);
- author-reject {token, comment}: not done, on_check → rework (the comment says why);
- author-unsubscribe {token}: no more notifications of this appeal to its author.

The token names one appeal: it acts as that appeal's author (gis/scope.AuthorByToken) by the
lifecycle's rules for the author; a missing, wrong or another appeal's token is 403
`author_link_invalid`; a status the action cannot start from is 409, as the lifecycle answers.
Rate limited per address like the other anonymous POSTs (api/ratelimit.py, `author_link`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api import schemas
from api.bodies import read_json_object
from api.deps import ConnDep, SettingsDep
from api.policy import author_by_token
from api.ratelimit import rate_limit
from gis import author_links

router = APIRouter(
    prefix="/api/v1",
    tags=["lifecycle"],
    dependencies=[author_by_token(), rate_limit("author_link")],
)


async def _by_link(request: Request, conn, settings, number: str, action: str) -> dict:
    """The link's JSON body {token, …} read, and `action` (one of author_links.ACTIONS) done
    with it as the appeal's author."""
    body = await read_json_object(request)
    if action == "unsubscribe":
        return await author_links.unsubscribe_by_token(conn, number, body)
    return await author_links.act(conn, settings, number, action, body)


@router.post(
    "/appeals/{number}/author-confirm",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.AUTHOR_CONFIRM_BODY,
    name="appeal_author_confirm",
)
async def author_confirm(
    number: str, request: Request, conn: ConnDep, settings: SettingsDep
) -> dict:
    """The author confirms the answer by their link {token, comment?}: on_check → closed."""
    return await _by_link(request, conn, settings, number, "confirm")


@router.post(
    "/appeals/{number}/author-reject",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.AUTHOR_REJECT_BODY,
    name="appeal_author_reject",
)
async def author_reject(
    number: str, request: Request, conn: ConnDep, settings: SettingsDep
) -> dict:
    """The author says it was not done, by their link {token, comment}: on_check → rework."""
    return await _by_link(request, conn, settings, number, "reject")


@router.post(
    "/appeals/{number}/author-unsubscribe",
    response_model=schemas.Unsubscribed,
    openapi_extra=schemas.AUTHOR_UNSUBSCRIBE_BODY,
    name="appeal_author_unsubscribe",
)
async def author_unsubscribe(
    number: str, request: Request, conn: ConnDep, settings: SettingsDep
) -> dict:
    """The author stops the notifications of this appeal by their link {token}."""
    return await _by_link(request, conn, settings, number, "unsubscribe")

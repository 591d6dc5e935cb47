"""The lifecycle of an appeal over HTTP (gis/lifecycle.py holds the transition table):
take, answer, return, redirect, transfer (to another council), locate, delegate, resolutions,
extend, check, confirm, reject, cancel;
duplicates (nearby, support); the public history.

Each route declares its roles (api/policy.py); within a role the appeal must lie in the
caller's scope (gis/scope.py), else 404; a status the action cannot start from: 409.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import schemas
from api.bodies import read_appeal_body, read_json_object
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, allow, public
from gis import lifecycle, supporters

router = APIRouter(prefix="/api/v1", tags=["lifecycle"])

EXECUTORS = ("executor", "manager")


def _roles(action: str) -> tuple[str, ...]:
    return tuple(sorted(lifecycle.ACTIONS[action].roles))


# The static path first: /appeals/nearby is not an appeal's number.
@router.get(
    "/appeals/nearby", response_model=schemas.Nearby, name="appeals_nearby", dependencies=[public()]
)
async def nearby(
    conn: ConnDep,
    settings: SettingsDep,
    lon: Annotated[str | None, Query()] = None,
    lat: Annotated[str | None, Query()] = None,
    category: Annotated[str | None, Query(description="category id or code")] = None,
) -> dict:
    """Open appeals of the same category near a point, to support one instead of filing."""
    return await lifecycle.nearby(conn, lon=lon, lat=lat, category=category,
                                  radius_m=settings.appeal_duplicate_radius_m)  # fmt: skip


@router.post("/appeals/{number}/take", response_model=schemas.Taken, name="staff_appeal_take")
async def take(
    number: str, principal: Annotated[Principal, allow(*_roles("take"))], conn: ConnDep
) -> dict:
    """Take an appeal into work: registered or rework → in_work."""
    return await lifecycle.take(conn, principal, number)


@router.post(
    "/appeals/{number}/answer",
    response_model=schemas.Answered,
    openapi_extra=schemas.ANSWER_BODY,
    name="appeal_answer",
)
async def answer(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*_roles("answer"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """The executor's answer {text, kind: done | explained | funding} → on_check; as JSON, or
    as multipart (the fields, or `data` as JSON, and up to 5 `photos`), as at intake."""
    body, photos = await read_appeal_body(request, settings)
    return await lifecycle.answer(conn, principal, number, body, photos,
                                  data_dir=settings.data_dir, settings=settings)  # fmt: skip


@router.post(
    "/appeals/{number}/return",
    response_model=schemas.Returned,
    openapi_extra=schemas.REASON_BODY,
    name="appeal_return",
)
async def return_(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*_roles("return"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """Not in competence {reason}: back to 1551, re-routed (the author is told where) or left
    for a curator."""
    return await lifecycle.return_not_competent(
        conn, principal, number, await read_json_object(request), settings
    )


@router.post(
    "/appeals/{number}/redirect",
    response_model=schemas.Redirected,
    openapi_extra=schemas.REDIRECT_BODY,
    name="appeal_redirect",
)
async def redirect(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("redirect"))], conn: ConnDep,
    settings: SettingsDep,
) -> dict:  # fmt: skip
    """To a named executor {executor: code or id, reason}; the author is mailed (art. 7)."""
    return await lifecycle.redirect(
        conn, principal, number, await read_json_object(request), settings
    )


@router.post(
    "/appeals/{number}/transfer",
    response_model=schemas.Transferred,
    openapi_extra=schemas.TRANSFER_BODY,
    name="appeal_transfer",
)
async def transfer(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("transfer"))], conn: ConnDep,
    settings: SettingsDep,
) -> dict:  # fmt: skip
    """To another council {council: slug or KATOTTH code, reason} (art. 7: within 5 days of
    registration; the author is told). Routed in that council; the term starts anew."""
    return await lifecycle.transfer(
        conn, principal, number, await read_json_object(request), settings
    )


@router.post(
    "/appeals/{number}/locate",
    response_model=schemas.Located,
    openapi_extra=schemas.LOCATE_BODY,
    name="appeal_locate",
)
async def locate(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("locate"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """A place {lon, lat, address?} for an open appeal filed without one: its point, district,
    ward and address; the status and the executor stay, the answer says routing's choice at
    the point (for a redirect). Outside the community: 400; a point already: 409."""
    return await lifecycle.locate(conn, principal, number, await read_json_object(request))


@router.post(
    "/appeals/{number}/delegate",
    response_model=schemas.Delegated,
    openapi_extra=schemas.DELEGATE_BODY,
    name="appeal_delegate",
)
async def delegate(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("delegate"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """To a sub-organisation {executor, deadline_at?, comment?} as the main executor."""
    return await lifecycle.delegate(conn, principal, number, await read_json_object(request))


@router.post(
    "/appeals/{number}/resolutions",
    response_model=schemas.ResolutionsAdded,
    openapi_extra=schemas.RESOLUTIONS_BODY,
    name="appeal_resolutions_add",
)
async def add_resolutions(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("resolutions"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """Co-executors {co_executors: [{executor, deadline_at?, text?}], comment?}: each with its
    own deadline and text (else the resolution's deadline and comment)."""
    return await lifecycle.add_resolutions(conn, principal, number, await read_json_object(request))


@router.get(
    "/appeals/{number}/resolutions", response_model=schemas.Resolutions, name="appeal_resolutions"
)
async def resolutions(
    number: str,
    principal: Annotated[Principal, allow("operator", "curator", "executor", "manager")],
    conn: ConnDep,
) -> dict:
    return await lifecycle.list_resolutions(conn, principal, number)


@router.post(
    "/appeals/{number}/extend",
    response_model=schemas.Extended,
    openapi_extra=schemas.EXTEND_BODY,
    name="appeal_extend",
)
async def extend(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*_roles("extend"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """A new term {until or days, reason}: 45 days from registration at most; mail to author."""
    return await lifecycle.extend(
        conn, principal, number, await read_json_object(request), settings
    )


@router.post(
    "/appeals/{number}/extension-request",
    response_model=schemas.ExtensionAsked,
    openapi_extra=schemas.EXTEND_BODY,
    name="appeal_ask_extension",
)
async def ask_extension(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("ask_extension"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """The executor asks for a longer term {until or days, reason}: an event of the trail that
    the manager or a curator grants with extend; the term itself is unchanged."""
    return await lifecycle.ask_extension(conn, principal, number, await read_json_object(request))


@router.post(
    "/appeals/{number}/extension-decline",
    response_model=schemas.ExtensionDeclined,
    openapi_extra=schemas.REASON_BODY,
    name="appeal_decline_extension",
)
async def decline_extension(
    number: str, request: Request,
    principal: Annotated[Principal, allow(*_roles("decline_extension"))], conn: ConnDep,
) -> dict:  # fmt: skip
    """Refuse the executor's pending request for a longer term {reason}: an internal event of
    the trail (not in the public history); the term is unchanged; none pending: 409."""
    return await lifecycle.decline_extension(
        conn, principal, number, await read_json_object(request)
    )


@router.post(
    "/appeals/{number}/check",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.CHECK_BODY,
    name="appeal_check",
)
async def check(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow("curator")], conn: ConnDep,
) -> dict:  # fmt: skip
    """The curator's check {decision: accept | return, comment}."""
    return await lifecycle.check(conn, principal, number, await read_json_object(request), settings)


AUTHOR_ROLES = _roles("confirm")  # the citizen whose appeal it is (the scope)
assert AUTHOR_ROLES == _roles("reject") == _roles("cancel")


@router.post(
    "/appeals/{number}/confirm",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.COMMENT_BODY,
    name="appeal_confirm",
)
async def confirm(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*AUTHOR_ROLES)], conn: ConnDep,
) -> dict:  # fmt: skip
    """The author confirms the result: on_check → closed."""
    body = await read_json_object(request)
    return await lifecycle.author_action(conn, principal, number, "confirm", body, settings)


@router.post(
    "/appeals/{number}/reject",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.COMMENT_BODY,
    name="appeal_reject",
)
async def reject(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*AUTHOR_ROLES)], conn: ConnDep,
) -> dict:  # fmt: skip
    """The author rejects the result: on_check → rework."""
    body = await read_json_object(request)
    return await lifecycle.author_action(conn, principal, number, "reject", body, settings)


@router.post(
    "/appeals/{number}/cancel",
    response_model=schemas.Closing,
    response_model_exclude_unset=True,
    openapi_extra=schemas.COMMENT_BODY,
    name="appeal_cancel",
)
async def cancel(
    number: str, request: Request, settings: SettingsDep,
    principal: Annotated[Principal, allow(*AUTHOR_ROLES)], conn: ConnDep,
) -> dict:  # fmt: skip
    """The author cancels an open appeal: → closed («Відмінено / Відмінено заявником»)."""
    body = await read_json_object(request)
    return await lifecycle.author_action(conn, principal, number, "cancel", body, settings)


@router.post(
    "/appeals/{number}/support",
    response_model=schemas.Supported,
    openapi_extra=schemas.SUPPORT_BODY,
    name="appeal_support",
)
async def support(
    number: str, request: Request,
    principal: Annotated[Principal, allow("citizen", *supporters.STAFF)], conn: ConnDep,
) -> dict:  # fmt: skip
    """Support an open appeal instead of filing a duplicate: a citizen for themself (no body,
    once per account); an operator or a curator for a caller {phone?, email?, full_name?,
    channel?} (a phone or an e-mail at least; once per phone, once per e-mail)."""
    body = await read_json_object(request)
    return await supporters.support(conn, principal, number, body)


@router.get(
    "/appeals/{number}/history",
    response_model=schemas.History,
    response_model_exclude_unset=True,
    name="appeal_history",
    dependencies=[public()],
)
async def history(number: str, conn: ConnDep) -> dict:
    """The public part of the audit trail: no personal data, no internal comments."""
    return await lifecycle.history(conn, number)

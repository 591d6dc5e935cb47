"""The signed-in user's own account: /api/v1/me (who am I, what is my scope), my data as a
download, and erasure of my account (the appeals stay, anonymised)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api import schemas
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, allow, signed_in
from api.security import client_ip, cookie_name, cookie_secure
from gis import accounts, councils
from gis.errors import Forbidden, NotAuthenticated
from gis.scope import council_of

router = APIRouter(prefix="/api/v1/me", tags=["me"])

SignedIn = Annotated[Principal, signed_in()]
# Staff accounts belong to the city and are deactivated by an administrator instead.
Citizen = Annotated[Principal, allow("citizen")]


class EraseBody(BaseModel):
    password: str = Field(
        max_length=accounts.PASSWORD_MAX_LENGTH, description="Поточний пароль, для певності"
    )


@router.get(
    "",
    response_model=schemas.Me,
    response_model_exclude_unset=True,
    summary="Мій обліковий запис і моя зона відповідальності",
)
async def me(principal: SignedIn, request: Request, conn: ConnDep) -> dict:
    assert principal.user_id is not None  # signed in
    account = await accounts.get_account(conn, user_id=principal.user_id)
    if account is None:
        raise NotAuthenticated()
    executor = (
        {"id": account["executor_id"], "name": account["executor_name"]}
        if account["executor_id"] is not None
        else None
    )
    session = getattr(request.state, "session_user", None)
    # The council of a member of staff (issue 17): the portal names it; null for oblast staff
    # and citizens.
    council_id = council_of(principal)
    council = next(
        ({"code": c.code, "slug": c.slug, "name": c.name}
         for c in await councils.list_public(conn) if c.id == council_id),
        None,
    ) if council_id is not None else None  # fmt: skip
    body = {
        "id": account["id"],
        "email": account["email"],
        "full_name": account["full_name"],
        "role": account["role"],
        "executor": executor,
        "executor_ids": list(principal.executor_ids),
        "ward_number": account["ward_number"],
        "council": council,
        "is_demo": account["is_demo"],
        "email_confirmed": account["email_confirmed_at"] is not None,
        "created_at": account["created_at"].isoformat(),
        "session": {
            "kind": principal.session_kind,
            "expires_at": session.expires_at.isoformat() if session else None,
        },
    }
    if session is not None and session.session_kind == "cookie":
        # Same-origin JavaScript may read it (another site cannot): the portal gets its CSRF
        # token back after a reload.
        body["csrf_token"] = session.csrf_token
    return body


@router.get("/data", response_model=schemas.MyData, summary="Завантажити мої дані (JSON)")
async def my_data(principal: SignedIn, conn: ConnDep) -> Response:
    assert principal.user_id is not None  # signed in
    data = await accounts.export_user_data(conn, user_id=principal.user_id)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="hromada-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete(
    "",
    response_model=schemas.Status,
    summary="Видалити мій обліковий запис (звернення лишаються знеособленими)",
)
async def erase_me(
    body: EraseBody,
    principal: Citizen,
    request: Request,
    response: Response,
    conn: ConnDep,
    settings: SettingsDep,
) -> dict:
    assert principal.user_id is not None  # signed in
    user = await accounts.get_user(conn, principal.user_id)
    if user is None:
        raise NotAuthenticated()
    ok = await accounts.check_user_password(
        conn, user=user, password=body.password, address=client_ip(request) or "unknown",
        max_failures=settings.login_max_failures,
        lockout_minutes=settings.login_lockout_minutes,
    )  # fmt: skip
    if not ok:
        raise Forbidden("wrong_password")
    await accounts.erase_user(conn, user_id=principal.user_id)
    response.delete_cookie(
        cookie_name(request), path="/", secure=cookie_secure(request), httponly=True,
        samesite="lax",
    )  # fmt: skip
    return {"status": "erased"}

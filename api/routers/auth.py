"""Sign-in, sign-out, registration, e-mail confirmation and password reset: /api/v1/auth.

Links in mails carry their one-time token in the URL fragment (`/account/confirm#token=…`):
a browser never sends the fragment to a server, so it cannot end up in access logs or a
proxy's. The portal's page reads it and POSTs it here.

Registration and password reset answer the same whether or not the address has an account
(202), so neither can be used to find out who is registered; the mails go out after the
response (a background task), so the time taken tells nothing either.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, Field

from api import schemas
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, public, signed_in
from api.ratelimit import check_account_limit, check_ip_failures, count_ip_failure, rate_limit
from api.security import client_ip, cookie_name, cookie_secure
from gis import accounts, notices
from gis.errors import Conflict, DomainError, InvalidInput, NotAuthenticated
from gis.settings import Settings

log = logging.getLogger("hromada.auth")

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

# Any signed-in user, about their own session(s).
SignedIn = Annotated[Principal, signed_in()]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- request bodies -------------------------------------------------------------------------


class RegisterBody(BaseModel):
    email: str = Field(max_length=accounts.EMAIL_MAX_LENGTH, description="Адреса e-mail")
    password: str = Field(
        max_length=accounts.PASSWORD_MAX_LENGTH,
        description=f"Пароль, щонайменше {accounts.PASSWORD_MIN_LENGTH} символів",
    )
    full_name: str = Field(max_length=accounts.NAME_MAX_LENGTH, description="Ім’я та прізвище")


class TokenBody(BaseModel):
    token: str = Field(min_length=1, max_length=accounts.MAX_TOKEN_LENGTH)


class LoginBody(BaseModel):
    email: str = Field(max_length=accounts.EMAIL_MAX_LENGTH)
    password: str = Field(max_length=accounts.PASSWORD_MAX_LENGTH)
    session: Literal["token", "cookie"] = Field(
        default="token",
        description="token: a bearer token in the answer (API); cookie: an HttpOnly session "
        "cookie and a CSRF token (portal)",
    )


class ResetRequestBody(BaseModel):
    email: str = Field(max_length=accounts.EMAIL_MAX_LENGTH)


class ResetConfirmBody(BaseModel):
    token: str = Field(min_length=1, max_length=accounts.MAX_TOKEN_LENGTH)
    password: str = Field(max_length=accounts.PASSWORD_MAX_LENGTH)


# --- mail (the texts: gis/notices.py) ------------------------------------------------------


def _page(settings: Settings, page: str) -> str:
    """A portal page under /account, as the mails link to it."""
    return f"{settings.public_base_url.rstrip('/')}/account/{page}"


def _link(settings: Settings, page: str, token: str) -> str:
    """The token rides in the fragment: browsers never send it to the server (nor its logs)."""
    return f"{_page(settings, page)}#token={token}"


async def _send(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Runs after the response. A failure is logged (never the body: it holds the link); the
    user can ask again (a reset link also confirms the address)."""
    from gis.mail import asend_mail

    try:
        await asend_mail(settings, to=to, subject=subject, body=body)
    except DomainError as exc:
        log.warning("%s mail not sent: %s", subject, exc.code)


# --- routes ---------------------------------------------------------------------------------


@router.post(
    "/register", response_model=schemas.Status, status_code=202, dependencies=[public("anyone: citizens sign up"), rate_limit("register")],
    summary="Реєстрація громадянина (підтвердження поштою)",
)  # fmt: skip
async def register(
    body: RegisterBody,
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> dict:
    email = accounts.normalise_email(body.email)
    check_account_limit(request, "register", email)
    accounts.check_password_rules(body.password, email=email)
    existing = await accounts.find_user_by_email(conn, email)
    if existing is None:
        try:
            user_id = await accounts.create_user(
                conn, email=email, password=body.password, full_name=body.full_name,
                role="citizen",
            )  # fmt: skip
        except Conflict:
            existing = await accounts.find_user_by_email(conn, email)  # a concurrent sign-up
        else:
            hours = settings.confirm_token_ttl_hours
            token = await accounts.issue_token(
                conn, user_id=user_id, purpose="confirm_email", ttl=dt.timedelta(hours=hours)
            )
            subject, text = notices.confirmation_mail(
                body.full_name.strip(), _link(settings, "confirm", token), hours
            )
            background.add_task(_send, settings, to=email, subject=subject, body=text)
            return {"status": "confirmation_sent"}
    else:
        accounts.hash_password(body.password)  # the same work as a new account
    if existing is not None and not existing["is_demo"]:
        subject, text = notices.already_registered_mail(_page(settings, "reset"))
        background.add_task(_send, settings, to=existing["email"], subject=subject, body=text)
    return {"status": "confirmation_sent"}


@router.post(
    "/confirm", response_model=schemas.Status, dependencies=[public("anyone holding a confirmation link")],
    summary="Підтвердження адреси e-mail",
)  # fmt: skip
async def confirm(body: TokenBody, conn: ConnDep) -> dict:
    user_id = await accounts.consume_token(conn, token=body.token, purpose="confirm_email")
    await accounts.confirm_email(conn, user_id=user_id)
    return {"status": "confirmed"}


@router.post(
    "/login", response_model=schemas.BearerToken, response_model_exclude_unset=True, dependencies=[public("anyone: signing in")],
    summary="Вхід: токен для API або cookie для порталу",
)  # fmt: skip
async def login(
    body: LoginBody, request: Request, response: Response, conn: ConnDep, settings: SettingsDep
) -> dict:
    # Throttled per (account, address) with a growing wait (gis/accounts.py), so that
    # nobody elsewhere can lock the owner out; the address's own limit counts its failures
    # only, so that a whole office behind one address can sign in at once.
    check_ip_failures(request, "login")
    try:
        user = await accounts.authenticate(
            conn, email=body.email, password=body.password, demo_mode=settings.demo_mode,
            address=client_ip(request) or "unknown",
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
        )  # fmt: skip
    except NotAuthenticated:
        count_ip_failure(request, "login")
        raise
    kind = "cookie" if body.session == "cookie" else "bearer"
    ttl = (
        dt.timedelta(hours=settings.session_ttl_hours)
        if kind == "cookie"
        else dt.timedelta(days=settings.bearer_ttl_days)
    )
    session = await accounts.create_session(
        conn, user_id=user["id"], kind=kind, ip=client_ip(request),
        user_agent=request.headers.get("user-agent"), ttl=ttl,
    )  # fmt: skip
    response.headers.update(NO_STORE)
    log.info("user %s signed in (%s session %s)", user["id"], kind, session.session_id)
    expires_at = session.expires_at.isoformat()
    if kind == "bearer":
        return {"access_token": session.token, "token_type": "bearer", "expires_at": expires_at}
    response.set_cookie(
        cookie_name(request), session.token, max_age=int(ttl.total_seconds()), path="/",
        secure=cookie_secure(request), httponly=True, samesite="lax",
    )  # fmt: skip
    return {"csrf_token": session.csrf_token, "expires_at": expires_at}


def _forget_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request), path="/", secure=cookie_secure(request), httponly=True,
        samesite="lax",
    )  # fmt: skip


@router.post("/logout", response_model=schemas.Status, summary="Вихід (цей сеанс)")
async def logout(principal: SignedIn, request: Request, response: Response, conn: ConnDep) -> dict:
    assert principal.session_id is not None  # signed in
    await accounts.revoke_session(conn, session_id=principal.session_id)
    _forget_cookie(request, response)
    return {"status": "signed_out"}


@router.post("/logout-all", response_model=schemas.SignedOutAll, summary="Вихід на всіх пристроях")
async def logout_all(
    principal: SignedIn, request: Request, response: Response, conn: ConnDep
) -> dict:
    assert principal.user_id is not None  # signed in
    count = await accounts.revoke_all_sessions(conn, user_id=principal.user_id)
    _forget_cookie(request, response)
    return {"status": "signed_out", "sessions_revoked": count}


@router.post(
    "/password-reset", response_model=schemas.Status, status_code=202, dependencies=[public("anyone: forgot the password"), rate_limit("password_reset")],
    summary="Відновлення пароля: лист із посиланням",
)  # fmt: skip
async def password_reset(
    body: ResetRequestBody,
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> dict:
    check_account_limit(request, "password_reset", body.email)
    user = await accounts.find_user_by_email(conn, body.email)
    if user is not None and user["is_active"] and not user["is_demo"]:
        minutes = settings.reset_token_ttl_minutes
        token = await accounts.issue_token(
            conn, user_id=user["id"], purpose="reset_password",
            ttl=dt.timedelta(minutes=minutes),
        )  # fmt: skip
        subject, text = notices.reset_mail(_link(settings, "reset", token), minutes)
        background.add_task(_send, settings, to=user["email"], subject=subject, body=text)
    return {"status": "accepted"}


@router.post(
    "/password-reset/confirm", response_model=schemas.Status, dependencies=[public("anyone holding a reset link")],
    summary="Новий пароль за посиланням із листа",
)  # fmt: skip
async def password_reset_confirm(body: ResetConfirmBody, conn: ConnDep) -> dict:
    accounts.check_password_rules(body.password)
    async with conn.transaction():
        user_id = await accounts.consume_token(conn, token=body.token, purpose="reset_password")
        user = await accounts.get_user(conn, user_id)
        if user is None or not user["is_active"]:
            raise InvalidInput("invalid_token")
        # Revokes every session; having the link proves the address, so it is confirmed too.
        await accounts.set_password(conn, user_id=user_id, password=body.password)
        await accounts.confirm_email(conn, user_id=user_id)
    return {"status": "password_changed"}

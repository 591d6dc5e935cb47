"""Domain errors of the whole core. Each names what went wrong with a stable `code` and the
facts (`params`); api/errors.py alone turns them into HTTP statuses and Ukrainian or English
messages. The core never speaks HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    # More of the answer's body besides code and detail (api/errors.py adds it as is): the
    # current feature of a stale edit, the rule and the conflicts of a placement refusal.
    extra: dict[str, Any] | None = None

    def __init__(self, code: str | None = None, **params: object) -> None:
        self.code = code or type(self).code
        self.params: dict[str, Any] = params  # passed on as keyword arguments
        super().__init__(f"{self.code}: {params}")


class InvalidInput(DomainError):
    """The request's data breaks a rule (400); `code` says which."""

    code = "invalid_input"


class InvalidParameter(InvalidInput):
    """A query parameter is unknown, repeated or malformed; `code` says which rule it broke
    (invalid_bbox, invalid_limit, invalid_datetime, ...) and `params['parameter']` its name."""

    code = "invalid_parameter"

    def __init__(self, code: str, parameter: str, **params: object) -> None:
        super().__init__(code, parameter=parameter, **params)


class NotAuthenticated(DomainError):
    """The route needs a signed-in user and there is none, or the session is over (401)."""

    code = "not_authenticated"


class Forbidden(DomainError):
    """Signed in, but this role or scope may not do this (403)."""

    code = "forbidden"


class NotFound(DomainError):
    """Nothing with this id, or nothing the caller may know exists (404)."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (409), e.g. an e-mail already registered."""

    code = "conflict"


class PreconditionFailed(DomainError):
    """An edit made against a version that is no longer the current one (412): `extra`
    carries the current state, so that the other change is shown rather than lost."""

    code = "precondition_failed"


class PreconditionRequired(DomainError):
    """An edit that does not say which version it changes (428: If-Match is required)."""

    code = "precondition_required"


class RateLimited(DomainError):
    """Too many attempts (429); `retry_after` seconds until the next one may succeed."""

    code = "rate_limited"

    def __init__(self, retry_after: int, code: str | None = None, **params: object) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(code, retry_after=self.retry_after, **params)


class PayloadTooLarge(DomainError):
    code = "payload_too_large"

"""Who may call a route — declared next to the route, enforced here, in one place.

Every route states its policy as a dependency:

    @router.get("/healthz", dependencies=[public()])
    async def healthz(...): ...

    @router.get("/api/v1/queue")
    async def queue(principal: Annotated[Principal, allow("executor", "manager")]): ...

`allow(*roles)` answers 401 to an anonymous caller and 403 to a signed-in one whose role is
not listed; `allow(*roles, public_when=predicate)` also admits anyone (anonymous or of another
role) to the requests `predicate(request)` holds true of — the public reports of
api/routers/reports.py, where the route then serves such a caller the public scope; what lies inside a role's scope (its organisation and sub-organisations, its ward)
is checked by the queries themselves (gis/scope.py). A test walks every route of the app and
fails when one declares no policy, so a new endpoint cannot slip through unprotected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from gis.errors import Forbidden, NotAuthenticated
from gis.models import ROLES

STAFF_ROLES = ("operator", "curator", "executor", "manager", "deputy", "planner", "admin")


@dataclass(frozen=True)
class Principal:
    """The caller: a signed-in user with their scope, or anonymous (user_id None)."""

    user_id: int | None = None
    role: str | None = None
    email: str | None = None
    full_name: str | None = None
    # The user's organisation followed by all its sub-organisations (executors, managers).
    executor_ids: tuple[int, ...] = ()
    ward_number: int | None = None  # deputies
    session_id: int | None = None
    session_kind: str | None = None  # 'cookie' (portal) or 'bearer' (API)
    is_demo: bool = False
    # The councils (tenants, issue 17) the user belongs to: () for citizens and oblast staff.
    # `oblast`: oblast staff (no council; gis/scope.OBLAST_ROLES); `every_council`: sees every
    # council — oblast staff, or the staff of a one-council install. The defaults deny: a
    # Principal built without them sees no council's rows (gis/scope.council_scope).
    council_ids: tuple[int, ...] = ()
    oblast: bool = False
    every_council: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


ANONYMOUS = Principal()


@dataclass(frozen=True)
class Policy:
    """`roles` None: anyone, signed in or not. `public_when`: the requests anyone may make
    besides (None: none)."""

    roles: frozenset[str] | None
    label: str
    public_when: Callable[[Request], bool] | None = None

    def check(self, principal: Principal, request: Request | None = None) -> Principal:
        if self.roles is None:
            return principal
        if principal.role in self.roles and not principal.is_anonymous:
            return principal
        if self.public_when is not None and request is not None and self.public_when(request):
            return principal
        if principal.is_anonymous:
            raise NotAuthenticated()
        if principal.role not in self.roles:
            raise Forbidden()
        return principal


def _current_principal():
    # Imported late: api.security depends on the database layer, this module does not.
    from api.security import current_principal

    return current_principal


def _policy_dependency(policy: Policy) -> Any:
    async def enforce(request: Request) -> Principal:
        principal = await _current_principal()(request)
        return policy.check(principal, request)

    enforce.__policy__ = policy  # type: ignore[attr-defined]  # read by route_policy()
    return Depends(enforce)


def public(label: str = "anyone") -> Any:
    return _policy_dependency(Policy(None, label))


def author_by_token() -> Any:
    """Anyone who holds the author's link of the appeal: the route reads the token from the
    body and acts as that appeal's author alone (gis/author_links.py, gis/scope.AuthorByToken),
    whoever is signed in; a missing or wrong token is 403 there. No session is read for it
    (api/security.py NO_SESSION_ROUTES): a session cookie is neither needed nor in the way."""
    return _policy_dependency(Policy(None, "the appeal's author, by the token of their link"))


def allow(*roles: str, public_when: Callable[[Request], bool] | None = None,
          public_label: str = "") -> Any:  # fmt: skip
    """These roles; with `public_when`, anyone as well for the requests it holds true of
    (`public_label` says which, for the policy's label)."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    label = ", ".join(roles) + (f"; anyone: {public_label}" if public_when is not None else "")
    return _policy_dependency(Policy(frozenset(roles), label, public_when))


def signed_in() -> Any:
    return allow(*ROLES)


PrincipalDep = Annotated[Principal, public()]


def route_policy(route) -> Policy | None:
    """The policy a route declares, found among its dependencies (used by the route walker)."""
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies if dependant is not None else [])
    while stack:
        dep = stack.pop()
        policy = getattr(dep.call, "__policy__", None)
        if policy is not None:
            return policy
        stack.extend(dep.dependencies)
    return None


def iter_api_routes(app):
    """Every API route of the app, with its effective dependencies (router-level ones
    included). FastAPI ≥ 0.16x includes routers lazily; older ones copy APIRoutes."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        elif hasattr(route, "dependant"):
            yield route

"""Demo accounts: one for each role, so that anyone can sign in to the demo and see what
each role sees. Created by `hromada demo` only when `settings.demo_mode` is on.

- an executor for each district administration: `rda-<district>@demo.hromada`;
- executors for a few city utilities (`teploenergo@…`, `vodokanal@…`, …) and for one
  housing office (ЖЕД, a sub-organisation of its district administration);
- a manager (of the first district administration), one operator and one curator (the
  contact centre), one planner, one administrator, one citizen;
- a deputy for each current ward: `deputy-<n>@demo.hromada`.

The demo citizen is made the author of the three latest generated appeals filed on the site.

Passwords are derived from the seed (HMAC-SHA256 of the seed and the login), so the same seed
gives the same passwords; `hromada demo accounts` recomputes and prints them, they are
stored nowhere but as argon2 hashes. All rows carry `is_demo = true`.

Hashing cost: 130-odd accounts with argon2's default parameters (64 MiB, 3 passes) take
several seconds on every `hromada demo`; demo accounts are hashed with argon2id at a low cost
(time_cost=1, 8 MiB). The parameters are in each hash, so the project's verifier checks them
as any other (and may rehash them at the next sign-in).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import asdict, dataclass

import psycopg

from gis.db import libpq_url

DOMAIN = "demo.hromada"
UTILITIES = ("teploenergo", "vodokanal", "avtodor", "komunservis")
CODE_PREFIX = "demo-"
CITIZEN_APPEALS = 3


@dataclass
class DemoAccount:
    role: str
    login: str
    password: str
    scope: str
    full_name: str
    executor_code: str | None = None
    ward_number: int | None = None
    council: str | None = None  # the council's slug (issue 17); None: oblast staff, citizens

    def public(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ("role", "login", "password", "scope")}


def password_for(seed: int, login: str) -> str:
    """The demo password of `login` under `seed`: 16 URL-safe characters."""
    digest = hmac.new(f"hromada-demo:{seed}".encode(), login.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:16]


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def _slug(name_en: str | None, fallback: str) -> str:
    word = (name_en or "").split(" ")[0].strip().lower()
    word = "".join(ch for ch in word if ch.isascii() and (ch.isalnum() or ch == "-"))
    return word or fallback.lower()


def plan(conn, seed: int) -> list[DemoAccount]:
    """Which accounts the demo has, from the executors and wards in the database."""
    out: list[DemoAccount] = []

    def add(role, local, scope, full_name, executor_code=None, ward=None, council=None):
        login = f"{local}@{DOMAIN}"
        out.append(DemoAccount(role, login, password_for(seed, login), scope, full_name,
                               executor_code, ward, council))  # fmt: skip

    districts = conn.execute(
        "SELECT d.code, d.name, d.name_en, e.code, e.name FROM districts d"
        " JOIN executors e ON e.code = %s || 'rda-' || d.code"
        " WHERE d.valid_to IS NULL ORDER BY d.name",
        (CODE_PREFIX,),
    ).fetchall()
    first_slug = None
    for code, name, name_en, ex_code, ex_name in districts:
        slug = _slug(name_en, code)
        first_slug = first_slug or slug
        add("executor", f"rda-{slug}", ex_name, f"Виконавець — {name}", ex_code)
    for key in UTILITIES:
        row = conn.execute(
            "SELECT code, name, short_name FROM executors WHERE code = %s", (CODE_PREFIX + key,)
        ).fetchone()
        if row:
            add("executor", key, row[1], f"Виконавець — {row[2]}", row[0])
    if districts:
        code, name, name_en = districts[0][0], districts[0][1], districts[0][2]
        row = conn.execute(
            "SELECT code, name FROM executors WHERE code LIKE %s ORDER BY code LIMIT 1",
            (f"{CODE_PREFIX}zhed-{code}-%",),
        ).fetchone()
        if row:
            add("executor", f"zhed-{_slug(name_en, code)}-1", row[1], f"Виконавець — {row[1]}",
                row[0])  # fmt: skip
        add("manager", f"manager-{first_slug}", districts[0][4],
            f"Керівник — {districts[0][4]}", districts[0][3])  # fmt: skip
    # The city's wards: those of the council without a number prefix (Kyiv; a one-council
    # install's only council) — a region's councils have theirs below.
    for number, full_name, slug in conn.execute(
        "SELECT w.number, coalesce(min(dp.full_name), 'Депутат округу ' || w.number), k.slug"
        " FROM wards w JOIN councils k ON k.id = w.council_id AND k.number_prefix = ''"
        " LEFT JOIN deputies dp ON dp.ward_number = w.number AND dp.council_id = w.council_id"
        " WHERE w.valid_to IS NULL GROUP BY w.number, k.slug ORDER BY w.number"
    ).fetchall():
        add("deputy", f"deputy-{number}", f"ward {number}", full_name, ward=number,
            council=slug)  # fmt: skip
    _plan_region(conn, add)
    centre = conn.execute(
        "SELECT e.code FROM executors e JOIN councils k ON k.id = e.council_id"
        " AND k.number_prefix = '' WHERE e.kind = 'contact_centre' ORDER BY e.id LIMIT 1"
    ).fetchone()
    centre_code = centre[0] if centre else None
    add("operator", "operator", "contact centre", "Оператор контакт-центру 1551", centre_code)
    add("curator", "curator", "contact centre", "Куратор контакт-центру 1551", centre_code)
    add("planner", "planner", "thematic layers", "Планувальник (містобудування)")
    add("admin", "admin", "city", "Адміністратор системи")
    add("citizen", "citizen", "own appeals", "Мешканка Києва (демо)")
    return out


#: A region's accounts (issue 17): per council of the first few by code plus the oblast centre.
REGION_COUNCILS = 3
OBLAST_CENTRE = "UA23060070000082704"  # Запорізька


def _plan_region(conn, add) -> None:
    """Region demo (importers/demo/region.py): for the first REGION_COUNCILS councils with
    generated executors, by code, and Запорізька — an executor (the executive committee), an
    operator and a curator (its contact centre), an administrator, a planner (its structures
    and kiosks, gis/scope: bound to the council) and the deputy of ward 1:
    `<role>-<slug>@demo.hromada`; and the oblast's administrator, curator and operator
    (`oblast-…`, bound to no council: they see every council)."""
    rows = conn.execute(
        "SELECT k.slug, k.name, k.code FROM councils k WHERE k.number_prefix <> ''"
        " AND EXISTS (SELECT 1 FROM executors e WHERE e.council_id = k.id AND e.generated)"
        " ORDER BY k.code"
    ).fetchall()
    if not rows:
        return
    chosen = rows[:REGION_COUNCILS] + [r for r in rows[REGION_COUNCILS:] if r[2] == OBLAST_CENTRE]
    for slug, name, _ in chosen:
        add("executor", f"executor-{slug}", name, f"Виконком — {name}", f"{slug}-vk",
            council=slug)  # fmt: skip
        add("operator", f"operator-{slug}", name, f"Оператор — {name}", f"{slug}-cc",
            council=slug)  # fmt: skip
        add("curator", f"curator-{slug}", name, f"Куратор — {name}", f"{slug}-cc",
            council=slug)  # fmt: skip
        add("admin", f"admin-{slug}", name, f"Адміністратор — {name}", council=slug)
        add("planner", f"planner-{slug}", name, f"Планувальник — {name}", council=slug)
        add("deputy", f"deputy-{slug}", f"{name}, ward 1", f"Депутат округу 1 — {name}",
            ward=1, council=slug)  # fmt: skip
    add("admin", "oblast-admin", "oblast", "Адміністратор області")
    add("curator", "oblast-curator", "oblast", "Куратор області")
    add("operator", "oblast-operator", "oblast", "Оператор області")


def create(url: str, seed: int, *, demo_mode: bool | None = None) -> list[DemoAccount]:
    """Create or refresh the demo accounts (in demo mode only); return them with passwords.
    Demo accounts no longer planned (e.g. a ward that is gone) are removed."""
    if demo_mode is None:
        from gis.settings import get_settings

        demo_mode = get_settings().demo_mode
    if not demo_mode:
        return []
    hasher = _hasher()
    with psycopg.connect(libpq_url(url)) as conn:
        accounts = plan(conn, seed)
        for a in accounts:
            conn.execute(
                "INSERT INTO users (email, password_hash, full_name, role, executor_id,"
                " ward_number, council_id, is_demo, is_active, email_confirmed_at)"
                " VALUES (%s, %s, %s, %s, (SELECT id FROM executors WHERE code = %s), %s,"
                " (SELECT id FROM councils WHERE slug = %s), true, true, now())"
                " ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
                " full_name = EXCLUDED.full_name, role = EXCLUDED.role,"
                " executor_id = EXCLUDED.executor_id, ward_number = EXCLUDED.ward_number,"
                " council_id = EXCLUDED.council_id, is_demo = true, is_active = true"
                " WHERE users.is_demo",
                (a.login, hasher.hash(a.password), a.full_name, a.role, a.executor_code,
                 a.ward_number, a.council),
            )  # fmt: skip
        conn.execute(
            "DELETE FROM users WHERE is_demo AND NOT (lower(email) = ANY(%s))",
            ([a.login.lower() for a in accounts],),
        )
        _give_citizen_appeals(conn)
    return accounts


def _give_citizen_appeals(conn, n: int = CITIZEN_APPEALS) -> None:
    """The demo citizen filed the latest few generated appeals from the site, so their
    cabinet has something in it (the same ones for the same seed)."""
    conn.execute(
        "UPDATE appeal_authors x SET user_id = u.id FROM users u"
        " WHERE u.is_demo AND u.role = 'citizen' AND x.user_id IS NULL AND x.appeal_id IN"
        " (SELECT id FROM appeals WHERE generated AND channel = 'site' ORDER BY id DESC LIMIT %s)"
        " AND NOT EXISTS (SELECT 1 FROM appeal_authors y WHERE y.user_id = u.id)",
        (n,),
    )


def listing(url: str, seed: int) -> list[DemoAccount]:
    """The demo accounts in the database, with the passwords `seed` gives them. Raises
    ValueError when the accounts were made with another seed (the hashes do not match)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    with psycopg.connect(libpq_url(url)) as conn:
        accounts = plan(conn, seed)
        stored: dict[str, str] = dict(conn.execute(
            "SELECT lower(email), password_hash FROM users WHERE is_demo"
        ).fetchall())  # fmt: skip
    present = [a for a in accounts if a.login.lower() in stored]
    if present:
        probe = present[0]
        try:
            PasswordHasher().verify(stored[probe.login.lower()], probe.password)
        except VerificationError:
            raise ValueError(
                f"the demo accounts were not made with seed {seed}: pass the seed given to"
                " `hromada demo --seed`"
            ) from None
    return present


def ensure(url: str, seed: int, *, demo_mode: bool | None = None) -> int:
    """Create the demo accounts unless some exist already (`hromada run` on an older demo
    city); return how many demo accounts there are."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM users WHERE is_demo").fetchone()
    assert row is not None  # an aggregate returns one row
    existing = row[0]
    if existing:
        return existing
    return len(create(url, seed, demo_mode=demo_mode))

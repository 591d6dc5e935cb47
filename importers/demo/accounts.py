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

    def add(role, local, scope, full_name, executor_code=None, ward=None):
        login = f"{local}@{DOMAIN}"
        out.append(DemoAccount(role, login, password_for(seed, login), scope, full_name,
                               executor_code, ward))  # fmt: skip

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
    for number, full_name in conn.execute(
        "SELECT w.number, coalesce(min(dp.full_name), 'Депутат округу ' || w.number)"
        " FROM wards w LEFT JOIN deputies dp ON dp.ward_number = w.number"
        " WHERE w.valid_to IS NULL GROUP BY w.number ORDER BY w.number"
    ).fetchall():
        add("deputy", f"deputy-{number}", f"ward {number}", full_name, ward=number)
    centre = conn.execute(
        "SELECT code FROM executors WHERE kind = 'contact_centre' ORDER BY id LIMIT 1"
    ).fetchone()
    centre_code = centre[0] if centre else None
    add("operator", "operator", "contact centre", "Оператор контакт-центру 1551", centre_code)
    add("curator", "curator", "contact centre", "Куратор контакт-центру 1551", centre_code)
    add("planner", "planner", "thematic layers", "Планувальник (містобудування)")
    add("admin", "admin", "city", "Адміністратор системи")
    add("citizen", "citizen", "own appeals", "Мешканка Києва (демо)")
    return out


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
                " ward_number, is_demo, is_active, email_confirmed_at)"
                " VALUES (%s, %s, %s, %s, (SELECT id FROM executors WHERE code = %s), %s,"
                " true, true, now())"
                " ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
                " full_name = EXCLUDED.full_name, role = EXCLUDED.role,"
                " executor_id = EXCLUDED.executor_id, ward_number = EXCLUDED.ward_number,"
                " is_demo = true, is_active = true"
                " WHERE users.is_demo",
                (a.login, hasher.hash(a.password), a.full_name, a.role, a.executor_code,
                 a.ward_number),
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

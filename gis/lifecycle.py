"""The 1551 lifecycle of an appeal, in one place (GUIDE §2, the law's art. 7 and 20).

`RULES` is the transition table: for an action, the statuses it may start from, the roles
that may do it, the status it leads to (None: unchanged) and the 1551 result it sets (None:
unchanged). `TABLE` expands it to (status, action, role) → Transition; `transition()` is the
only question the rest of the code asks. Everything a transition changes is written by
`_apply()` in one transaction with the appeal row locked (SELECT … FOR UPDATE), and every
change writes one appeal_events row with the old and new values of each changed attribute;
the database seals that row into the hash chain (gis/audit.py).

    Registered ──take──▶ In work ──answer──▶ On check ──accept (curator)──▶ Closed
        ▲                  │  ▲                  │  ──confirm (author)──▶ Closed
        │                  │  └──take── Rework ◀─┤  ──rework (curator)
        │                  │                     └─ ──reject (author)
        └── return (not in competence: re-routed by decide(), or left to a curator who
            redirects), redirect (curator), delegate (to a sub-organisation),
            transfer (to another council: art. 7, within 5 days; operator or curator)
    cancel (author) from any open status → Closed; autoclose (the job) On check → Closed

Who may reach an appeal at all is gis/scope.py (outside the scope: 404); a role outside the
table for an action: 403 (the route's policy); a status outside it: 409 naming the current
status and the statuses the action is possible from.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, overload

from psycopg.rows import dict_row

from gis import clock, councils, notify, structure_links
from gis.councils import COUNCIL_AT_POINT_SQL
from gis.errors import Conflict, InvalidInput, NotFound
from gis.jsonable import iso
from gis.models import status_name
from gis.scope import appeal_scope
from gis.texts import N_, tr

log = logging.getLogger("hromada.lifecycle")

OPEN = ("registered", "in_work", "on_check", "rework")
# Art. 20: with an extension, 45 days in total from registration at most.
MAX_TOTAL_DAYS = 45

# 1551's results (data/kyiv_1551_profile.json, "results_2025-09").
R_TAKEN = "Прийнято в роботу"
R_DONE_AWAITING = "Виконано / Очікує підтвердження заявником"
R_EXPLAINED_CHECK = "Роз`яснено / Потребує перевірки куратором"
R_FUNDING = "Роз`яснено / Потребує фінансування/Включено в план-програму"
R_CHECKED = "Роз`яснено / Перевірено куратором"
R_CONFIRMED = "Виконано / Підтверджено заявником"
R_REWORK_AUTHOR = "На доопрацювання / Виконання не підтверджено заявником"
R_REWORK_CURATOR = "На доопрацювання / Спростовано куратором"
R_NOT_COMPETENT = "Не в компетенції / Повернуто в 1551"
R_REDIRECTED = "Очікує прийому в роботу / Перенаправлено за належністю"
R_CANCELLED = "Відмінено / Відмінено заявником"
R_AUTOCLOSED = "Закрито автоматично / Виконання не підтверджено заявником"

# Art. 7: an appeal outside a body's competence is sent on to the competent one within five
# days (Kyiv's calendar days from registration), its author told. Council-bound staff may
# transfer within them; oblast staff also later (the event says `late`).
TRANSFER_DAYS = 5

# The executor's answer: its kind → the result it sets (the appeal goes on check).
ANSWER_RESULTS = {"done": R_DONE_AWAITING, "explained": R_EXPLAINED_CHECK, "funding": R_FUNDING}

STAFF_EXECUTORS = frozenset({"executor", "manager"})
AUTHOR = frozenset({"citizen"})  # the citizen signed in whose appeal it is (scope)
SYSTEM = "system"  # the autoclose job


@dataclass(frozen=True)
class Rule:
    action: str
    sources: tuple[str, ...]
    roles: frozenset[str]
    to: str | None  # None: the status does not change
    result: str | None  # None: the result does not change (or depends on the input)


RULES: tuple[Rule, ...] = (
    Rule("take", ("registered", "rework"), STAFF_EXECUTORS, "in_work", R_TAKEN),
    Rule("answer", ("in_work",), STAFF_EXECUTORS, "on_check", None),  # result by answer kind
    Rule(
        "return",
        ("registered", "in_work", "rework"),
        STAFF_EXECUTORS,
        "registered",
        R_NOT_COMPETENT,
    ),  # fmt: skip
    Rule(
        "redirect",
        ("registered", "in_work", "rework"),
        frozenset({"curator", "operator"}),
        "registered",
        R_REDIRECTED,
    ),  # fmt: skip
    Rule(
        "delegate", ("registered", "in_work", "rework"), STAFF_EXECUTORS, "registered", R_REDIRECTED
    ),  # fmt: skip
    Rule(
        "transfer",
        ("registered", "in_work", "rework"),
        frozenset({"curator", "operator"}),
        "registered",
        R_REDIRECTED,
    ),  # fmt: skip
    Rule("resolutions", ("registered", "in_work", "rework"), STAFF_EXECUTORS, None, None),
    Rule("extend", OPEN, frozenset({"manager", "curator"}), None, None),
    Rule("ask_extension", ("registered", "in_work", "rework"), STAFF_EXECUTORS, None, None),
    # Refusing an executor's request for a longer term: staff's own business, no status change.
    Rule("decline_extension", OPEN, frozenset({"manager", "curator"}), None, None),
    # A place for an open appeal filed without one (the curator's no_location queue): no
    # status change, the executor stays; routing's choice at the point is proposed instead.
    Rule("locate", OPEN, frozenset({"curator", "operator"}), None, None),
    Rule("accept", ("on_check",), frozenset({"curator"}), "closed", R_CHECKED),
    Rule("rework", ("on_check",), frozenset({"curator"}), "rework", R_REWORK_CURATOR),
    Rule("confirm", ("on_check",), AUTHOR, "closed", R_CONFIRMED),
    Rule("reject", ("on_check",), AUTHOR, "rework", R_REWORK_AUTHOR),
    Rule("cancel", OPEN, AUTHOR, "closed", R_CANCELLED),
    Rule("autoclose", ("on_check",), frozenset({SYSTEM}), "closed", R_AUTOCLOSED),
)
ACTIONS = {r.action: r for r in RULES}


@dataclass(frozen=True)
class Transition:
    to: str | None
    result: str | None


TABLE: dict[tuple[str, str, str], Transition] = {
    (status, r.action, role): Transition(r.to, r.result)
    for r in RULES
    for status in r.sources
    for role in r.roles
}


def transition(status: str, action: str, role: str) -> Transition | None:
    return TABLE.get((status, action, role))


def _names(statuses, lang: str) -> str:
    # Ukrainian quotes names «so», English 'so' (as the messages around them do).
    left, right = ("«", "»") if lang == "uk" else ("'", "'")
    return ", ".join(f"{left}{status_name(s, lang)}{right}" for s in statuses)


# The actions as a person names them (a refusal's message says which one was refused).
ACTION_NAMES = {
    "take": N_("прийняти в роботу"),
    "answer": N_("відповісти"),
    "return": N_("повернути як не в компетенції"),
    "redirect": N_("перенаправити"),
    "delegate": N_("доручити підрозділу"),
    "transfer": N_("передати іншій громаді"),
    "resolutions": N_("призначити співвиконавців"),
    "extend": N_("продовжити строк"),
    "ask_extension": N_("попросити продовжити строк"),
    "decline_extension": N_("відмовити в продовженні строку"),
    "locate": N_("вказати місце"),
    "accept": N_("прийняти відповідь"),
    "rework": N_("повернути на доопрацювання"),
    "confirm": N_("підтвердити виконання"),
    "reject": N_("не підтвердити виконання"),
    "cancel": N_("скасувати звернення"),
    "autoclose": N_("закрити автоматично"),
    "control": N_("поставити на контроль"),
}


def refuse(number: str, status: str, action: str):
    rule = ACTIONS[action]
    if action == "take":  # the code and message the queue's clients already know
        return Conflict("appeal_wrong_state", number=number, state=status,
                        allowed=", ".join(rule.sources))  # fmt: skip
    return Conflict(
        "appeal_transition_refused", number=number, action=action, state=status,
        action_uk=tr(ACTION_NAMES.get(action, action), "uk"),
        action_en=tr(ACTION_NAMES.get(action, action), "en"),
        state_uk=status_name(status), state_en=status_name(status, "en"),
        allowed=", ".join(rule.sources), allowed_uk=_names(rule.sources, "uk"),
        allowed_en=_names(rule.sources, "en"),
    )  # fmt: skip


def actor_label(principal: Any) -> str:
    if principal is None:
        return SYSTEM
    if principal.role == "citizen":
        return "заявник"  # the author's name is personal data: never in the trail's text
    return principal.full_name or principal.email or f"user {principal.user_id}"


# --- the one writer ----------------------------------------------------------------------------

_APPEAL_COLUMNS = (
    "a.id, a.number, a.status, a.result, a.executor_id, a.category_id, a.created_at,"
    " a.deadline_at, a.extended_until, a.answered_at, a.closed_at, a.council_id,"
    " ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat"
)


async def lock_appeal(conn, principal: Any, number: str) -> dict:
    """The appeal, locked for this transaction, if it lies in the caller's scope; else 404."""
    scope_sql, scope_params = "true", list[Any]()
    if principal is not None:
        scope_sql, scope_params = appeal_scope(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_APPEAL_COLUMNS} FROM appeals a WHERE a.number = %s AND {scope_sql}"
            " FOR UPDATE OF a",
            [number, *scope_params],
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound("appeal_not_found", number=number)
    return row


async def write_event(conn, appeal_id: int, principal: Any, action: str, old: dict | None,
                      new: dict | None, comment: str | None = None,
                      internal: bool = False) -> int:  # fmt: skip
    """Write one event of the appeal's trail; its id (a notification names its event)."""
    cur = await conn.execute(
        "INSERT INTO appeal_events (appeal_id, actor, actor_user_id, action, old, new, comment,"
        " internal) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (appeal_id, actor_label(principal), getattr(principal, "user_id", None), action,
         None if old is None else json.dumps(old, ensure_ascii=False, default=iso),
         None if new is None else json.dumps(new, ensure_ascii=False, default=iso),
         comment, internal),
    )  # fmt: skip
    row = await cur.fetchone()
    assert row is not None  # INSERT … RETURNING
    return int(row[0])


async def _apply(conn, appeal: dict, principal: Any, action: str, *, changes: dict | None = None,
                 result: str | None = None, comment: str | None = None,
                 internal: bool = False, extra_new: dict | None = None) -> dict:  # fmt: skip
    """Check the table, update the locked appeal and write its event; returns the new values."""
    role = SYSTEM if principal is None else principal.role
    step = transition(appeal["status"], action, role)
    if step is None:
        raise refuse(appeal["number"], appeal["status"], action)
    changes = dict(changes or {})
    if step.to is not None:
        changes["status"] = step.to
        if step.to == "closed":
            changes["closed_at"] = clock.now()
        if step.to == "on_check":
            changes["answered_at"] = clock.now()
    if (result or step.result) is not None:
        changes["result"] = result or step.result
    changed = {k: v for k, v in changes.items() if appeal.get(k) != v}
    if changed:
        sets = ", ".join(f"{k} = %s" for k in changed)
        await conn.execute(
            f"UPDATE appeals SET {sets}, updated_at = now() WHERE id = %s",
            [*changed.values(), appeal["id"]],
        )
    old = {k: appeal.get(k) for k in changed}
    new = {**changed, **(extra_new or {})}
    appeal["event_id"] = await write_event(conn, appeal["id"], principal, action, old, new,
                                           comment, internal)  # fmt: skip
    appeal.update(changed)
    return {"number": appeal["number"], "status": appeal["status"], "result": appeal["result"]}


# --- the actions ---------------------------------------------------------------------------------


async def take(conn, principal, number: str) -> dict:
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        previous = appeal["status"]
        out = await _apply(conn, appeal, principal, "take")
    return {**out, "previous_status": previous}


@overload
def _text(value: Any, name: str, *, required: Literal[True] = ..., limit: int = ...) -> str: ...
@overload
def _text(value: Any, name: str, *, required: bool, limit: int = ...) -> str | None: ...
def _text(value: Any, name: str, *, required: bool = True, limit: int = 4000) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput("field_required", parameter=name)
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid_value", parameter=name, value=str(value)[:50])
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput("field_too_long", parameter=name, max=limit)
    return value


async def answer(conn, principal, number: str, body: dict, photos: list | None = None,
                 data_dir=None, settings=None) -> dict:  # fmt: skip
    """The executor's answer: public text, kind done | explained | funding, and up to 5
    photos (checked and stripped by gis/photos.py, stored as kind 'answer') → on check."""
    from gis import photos as photo_store

    text = _text(body.get("text"), "text")
    kind = body.get("kind", "done")
    if kind not in ANSWER_RESULTS:
        raise InvalidInput("invalid_value", parameter="kind", value=str(kind)[:50])
    photos = list(photos or [])
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        shas = []
        for position, photo in enumerate(photos):
            cur = await conn.execute(
                "INSERT INTO appeal_photos (appeal_id, sha256, content_type, bytes, width,"
                " height, kind, position) VALUES (%s, %s, %s, %s, %s, %s, 'answer', %s)"
                " ON CONFLICT DO NOTHING RETURNING sha256",
                (appeal["id"], photo.sha256, photo.content_type, len(photo.data), photo.width,
                 photo.height, position),
            )  # fmt: skip
            if await cur.fetchone():
                shas.append(photo.sha256)
        extra = {"answer": text, "answer_kind": kind}
        if shas:
            extra["answer_photos"] = shas
        out = await _apply(conn, appeal, principal, "answer", result=ANSWER_RESULTS[kind],
                           extra_new=extra)  # fmt: skip
        # The author hears of it in this transaction (gis/notify.py: the outbox).
        await notify.enqueue(conn, appeal_id=appeal["id"], event_id=appeal["event_id"],
                             kind="answered", settings=settings, params={"answer": text})  # fmt: skip
        # The files last, still inside the transaction: a failure rolls the answer back.
        for photo in photos:
            if photo.sha256 in shas and data_dir is not None:
                photo_store.store(data_dir, photo)
    return {**out, "photos": shas}


async def _executor(conn, ref: Any, council_id: int | None = None) -> dict:
    """An executor by code or id; with `council_id` (the appeal's council), one of another
    council is InvalidInput `executor_not_in_council`."""
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        raise InvalidInput("field_required", parameter="executor")
    text = str(ref).strip()
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, code, coalesce(short_name, name) AS name, parent_id, council_id"
            " FROM executors WHERE code = %s OR (%s AND id = %s::int)",
            (text, text.isdigit() and len(text) < 10, text if text.isdigit() and len(text) < 10
             else "0"),
        )  # fmt: skip
        row = await cur.fetchone()
    if row is None:
        raise InvalidInput("unknown_executor", parameter="executor", value=text[:64])
    if council_id is not None and row["council_id"] != council_id:
        raise InvalidInput("executor_not_in_council", parameter="executor", value=text[:64])
    return row


async def _subtree(conn, executor_id: int | None) -> tuple[int, ...]:
    from gis.scope import executor_subtree

    return await executor_subtree(conn, executor_id)


async def _contact_centre(conn, council_id: int) -> int | None:
    """The contact centre of the council (the lowest id when it has several)."""
    cur = await conn.execute(
        "SELECT id FROM executors WHERE kind = 'contact_centre' AND council_id = %s"
        " ORDER BY id LIMIT 1",
        (council_id,),
    )
    row = await cur.fetchone()
    return row[0] if row else None


async def return_not_competent(conn, principal, number: str, body: dict,
                               settings=None) -> dict:  # fmt: skip
    """Not in competence (art. 7): back to 1551. Re-routed at once by decide() when routing
    names another organisation (not the returning one nor its sub-organisations); otherwise it
    waits at the contact centre for a curator to redirect it."""
    from gis.routing import decide

    reason = _text(body.get("reason"), "reason")
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        returning = appeal["executor_id"]
        excluded = set(await _subtree(conn, returning)) | set(principal.executor_ids or ())
        centre = await _contact_centre(conn, appeal["council_id"])
        out = await _apply(conn, appeal, principal, "return", comment=reason,
                           changes={"executor_id": centre})  # fmt: skip
        try:
            decision = await decide(conn, lon=appeal["lon"], lat=appeal["lat"],
                                    category_id=appeal["category_id"],
                                    council=appeal["council_id"])  # fmt: skip
        except Exception:  # an old location outside today's service area: a curator decides
            decision = None
        if decision is not None and decision.council_id != appeal["council_id"]:
            decision = None  # the point lies in another council: a curator transfers it
        if decision is not None and decision.executor_id not in excluded | {None}:
            if decision.executor_id != appeal["executor_id"]:
                await conn.execute(
                    "UPDATE appeals SET executor_id = %s, routing_rule_id = %s,"
                    " routing_reason = %s, result = %s, updated_at = now() WHERE id = %s",
                    (decision.executor_id, decision.rule_id, decision.reason, R_REDIRECTED,
                     appeal["id"]),
                )  # fmt: skip
                event_id = await write_event(
                    conn, appeal["id"], None, "reroute",
                    {"executor_id": appeal["executor_id"], "result": appeal["result"]},
                    {"executor_id": decision.executor_id, "result": R_REDIRECTED,
                     "routing_reason": decision.reason},
                    comment=f"повернуто як не в компетенції: {reason}",
                )  # fmt: skip
                # Art. 7: the author is told where it went and why (as after a redirect).
                await notify.enqueue(
                    conn, appeal_id=appeal["id"], event_id=event_id, kind="redirected",
                    settings=settings,
                    params={"executor": decision.executor_name or "", "reason": reason},
                )  # fmt: skip
                appeal["executor_id"] = decision.executor_id
                out["result"] = R_REDIRECTED
        out["executor_id"] = appeal["executor_id"]
        out["rerouted"] = out["result"] == R_REDIRECTED
    return out


async def redirect(conn, principal, number: str, body: dict, settings=None) -> dict:
    """To the executor it belongs to; art. 7: the author is told where it went and why."""
    reason = _text(body.get("reason"), "reason")
    async with conn.transaction():
        target = await _executor(conn, body.get("executor"))
        appeal = await lock_appeal(conn, principal, number)
        if target["council_id"] != appeal["council_id"]:  # another council's: transfer instead
            raise InvalidInput("executor_not_in_council", parameter="executor",
                               value=target["code"])  # fmt: skip
        out = await _apply(conn, appeal, principal, "redirect", comment=reason,
                           changes={"executor_id": target["id"]})  # fmt: skip
        queued = await notify.enqueue(
            conn, appeal_id=appeal["id"], event_id=appeal["event_id"], kind="redirected",
            settings=settings, params={"executor": target["name"], "reason": reason},
        )  # fmt: skip
    # author_notified: the author's notice is queued (delivered by a job, gis/notify.py).
    return {**out, "executor": target["code"], "author_notified": queued["author"]}


def transfer_days_used(created_at: dt.datetime) -> int:
    """Kyiv calendar days since registration (0 on the day itself): art. 7's five days."""
    return (clock.kyiv_today() - created_at.astimezone(clock.KYIV).date()).days


async def transfer(conn, principal, number: str, body: dict, settings=None) -> dict:
    """Art. 7: to the council it belongs to {council, reason}, within five days of
    registration (council-bound staff; oblast staff later too, the event marked `late`). One
    transaction: the appeal's council, routing in that council at its point (else its
    contact centre), a new term counted from the transfer (art. 20 counts from receipt by
    the competent body), the event `transfer` (public, with the reason), and the author's
    notice (the 'redirected' one, naming the council). The number is unchanged."""
    from gis.intake import deadline_for
    from gis.routing import decide

    reason = _text(body.get("reason"), "reason")
    ref = _text(body.get("council"), "council", limit=64)
    target = councils.check_open(await councils.resolve(conn, ref))
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        _check_state(appeal, principal, "transfer")
        if target.id == appeal["council_id"]:
            raise InvalidInput("transfer_same_council", parameter="council", value=ref)
        used = transfer_days_used(appeal["created_at"])
        late = used > TRANSFER_DAYS
        if late and not getattr(principal, "oblast", False):
            raise Conflict("transfer_too_late", number=number, days=TRANSFER_DAYS)
        try:
            decision = await decide(conn, lon=appeal["lon"], lat=appeal["lat"],
                                    category_id=appeal["category_id"], council=target)  # fmt: skip
        except InvalidInput:  # a point outside every council: the target's contact centre
            decision = None
        if decision is not None and decision.council_id != target.id:
            decision = None  # its point lies elsewhere: the target's contact centre sorts it
        executor_id = (
            decision.executor_id if decision is not None
            else await _contact_centre(conn, target.id)
        )  # fmt: skip
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT coalesce(cc.deadline_days, c.deadline_days) AS days, c.needs_study,"
                " (SELECT coalesce(e.short_name, e.name) FROM executors e WHERE e.id = %s)"
                " AS executor, (SELECT code FROM councils WHERE id = %s) AS from_council"
                " FROM categories c LEFT JOIN council_categories cc"
                " ON cc.category_id = c.id AND cc.council_id = %s WHERE c.id = %s",
                (executor_id, appeal["council_id"], target.id, appeal["category_id"]),
            )  # fmt: skip
            term = await cur.fetchone()
        assert term is not None  # the appeal's category exists (a foreign key)
        now = clock.now()
        deadline = deadline_for(now, deadline_days=term["days"], needs_study=term["needs_study"])
        reason_text = (
            decision.reason if decision is not None
            else f"Передано громаді «{target.name}»: звернення отримує її контакт-центр."
        )  # fmt: skip
        out = await _apply(
            conn, appeal, principal, "transfer", comment=reason,
            changes={"council_id": target.id, "executor_id": executor_id,
                     "deadline_at": deadline, "extended_until": None},
            extra_new={"council": target.code, "council_name": target.name,
                       "from_council": term["from_council"], "late": late,
                       "days_used": used, "deadline_from": "transfer"},
        )  # fmt: skip
        await conn.execute(
            "UPDATE appeals SET routing_rule_id = %s, routing_reason = %s,"
            " district_id = CASE WHEN %s THEN %s ELSE district_id END,"
            " ward_id = CASE WHEN %s THEN %s ELSE ward_id END WHERE id = %s",
            (decision.rule_id if decision else None, reason_text,
             decision is not None, decision.district_id if decision else None,
             decision is not None, decision.ward_id if decision else None, appeal["id"]),
        )  # fmt: skip
        queued = await notify.enqueue(
            conn, appeal_id=appeal["id"], event_id=appeal["event_id"], kind="redirected",
            settings=settings,
            params={"executor": f"{target.name} — {term['executor'] or ''}".rstrip(" —"),
                    "reason": reason},
        )  # fmt: skip
    return {
        **out, "council": target.public(), "executor_id": executor_id,
        "executor_name": term["executor"], "deadline_at": deadline.isoformat(), "late": late,
        "days_used": used, "author_notified": queued["author"],
    }  # fmt: skip


async def locate(conn, principal, number: str, body: dict) -> dict:
    """A place {lon, lat, address?} for an open appeal that has none: its point, the district
    and the ward covering it and its address (given, else the nearest house's) — what intake
    stores of a place (gis/intake.py place). A point outside the community: 400; an appeal
    that has a point already: 409. The executor is unchanged: the answer carries routing's
    choice at the point (the dry run), for a redirect. One UPDATE of appeals, so the tiles'
    cell counts (tiles.appeal_cells) and the tile cache (the layer's change notice) follow."""
    from gis.intake import place
    from gis.routing import check_point, reason_en

    point = check_point(body.get("lon"), body.get("lat"))
    if point is None:
        raise InvalidInput("coordinate_missing", parameter="lon")
    lon, lat = point
    given = _text(body.get("address"), "address", required=False, limit=500)
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        if transition(appeal["status"], "locate", principal.role) is None:
            raise refuse(number, appeal["status"], "locate")
        if appeal["lon"] is not None:
            raise Conflict("appeal_already_located", number=number)
        try:
            decision, address = await place(conn, lon=lon, lat=lat,
                                            category_id=appeal["category_id"], address=given)  # fmt: skip
        except InvalidInput as exc:
            if exc.code == "outside_service_area":
                raise InvalidInput("locate_outside_city", parameter="lon", number=number,
                                   lon=lon, lat=lat) from None  # fmt: skip
            raise
        if decision.council_id != appeal["council_id"]:  # a curator transfers it first
            from gis.routing import council_by_id

            other = await council_by_id(conn, decision.council_id) if decision.council_id else None
            raise Conflict("point_in_other_council", number=number,
                           council=other.name if other else "")  # fmt: skip
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "WITH was AS (SELECT address, district_id, ward_id FROM appeals WHERE id = %(id)s)"
                " UPDATE appeals a SET geom = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),"
                " address = %(address)s, district_id = %(district)s, ward_id = %(ward)s,"
                " updated_at = now() FROM was WHERE a.id = %(id)s"
                " RETURNING was.address, was.district_id, was.ward_id,"
                " (SELECT jsonb_build_object('code', code, 'name', name) FROM districts"
                "  WHERE id = a.district_id) AS district,"
                " (SELECT jsonb_build_object('number', number, 'name', name) FROM wards"
                "  WHERE id = a.ward_id) AS ward",
                {"id": appeal["id"], "lon": lon, "lat": lat, "address": address,
                 "district": decision.district_id, "ward": decision.ward_id},
            )  # fmt: skip
            row = await cur.fetchone()
        assert row is not None  # the appeal is locked
        await structure_links.link(conn, appeal["id"])  # about a structure: linked now
        new = {"lon": lon, "lat": lat, "address": address, "district_id": decision.district_id,
               "ward_id": decision.ward_id}  # fmt: skip
        old = {"lon": None, "lat": None, "address": row["address"],
               "district_id": row["district_id"], "ward_id": row["ward_id"]}  # fmt: skip
        await write_event(conn, appeal["id"], principal, "locate", old, new)
    return {
        "number": number, "status": appeal["status"], "result": appeal["result"],
        "lon": lon, "lat": lat, "address": address, "district": row["district"],
        "ward": row["ward"],
        "routing": {"executor_code": decision.executor_code,
                    "executor_name": decision.executor_name, "rule_id": decision.rule_id,
                    "reason": decision.reason, "reason_en": reason_en(decision.reason)},
    }  # fmt: skip


def _deadline(value: Any, appeal: dict, name: str = "deadline_at") -> dt.datetime:
    if value is None:
        return appeal["extended_until"] or appeal["deadline_at"]
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("invalid_value", parameter=name, value=str(value)[:50]) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    limit = appeal["extended_until"] or appeal["deadline_at"]
    if when > limit:
        raise InvalidInput("resolution_deadline_too_late", parameter=name,
                           limit=limit.date().isoformat())  # fmt: skip
    return when


async def _subordinate(conn, appeal: dict, principal, ref: Any) -> dict:
    """An executor that is a sub-organisation (strictly below) of the appeal's executor."""
    target = await _executor(conn, ref, appeal["council_id"])
    below = set(await _subtree(conn, appeal["executor_id"])) - {appeal["executor_id"]}
    if target["id"] not in below or target["id"] not in set(principal.executor_ids or ()):
        raise InvalidInput("executor_not_subordinate", parameter="executor",
                           value=target["code"])  # fmt: skip
    return target


async def delegate(conn, principal, number: str, body: dict) -> dict:
    """To a sub-organisation of the appeal's executor, as the main executor of a resolution
    with its own deadline (not later than the appeal's)."""
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        target = await _subordinate(conn, appeal, principal, body.get("executor"))
        deadline = _deadline(body.get("deadline_at"), appeal)
        comment = _text(body.get("comment"), "comment", required=False)
        out = await _apply(conn, appeal, principal, "delegate", comment=comment,
                           changes={"executor_id": target["id"]},
                           extra_new={"resolution": {"executor_id": target["id"],
                                                     "is_main": True,
                                                     "deadline_at": deadline}})  # fmt: skip
        # One main executor: whoever held the appeal before hands it on (its resolution stays,
        # as a co-executor's, so the history of who was told what is kept).
        await conn.execute(
            "UPDATE resolutions SET is_main = false WHERE appeal_id = %s AND is_main"
            " AND executor_id <> %s",
            (appeal["id"], target["id"]),
        )
        await conn.execute(
            "INSERT INTO resolutions (appeal_id, executor_id, is_main, deadline_at, comment,"
            " created_by) VALUES (%s, %s, true, %s, %s, %s) ON CONFLICT (appeal_id, executor_id)"
            " DO UPDATE SET is_main = true, deadline_at = EXCLUDED.deadline_at",
            (appeal["id"], target["id"], deadline, comment, principal.user_id),
        )
    return {**out, "executor": target["code"], "deadline_at": deadline.isoformat()}


async def add_resolutions(conn, principal, number: str, body: dict) -> dict:
    """Co-executors: sub-organisations of the appeal's executor, each with its deadline and
    its text ({executor, deadline_at?, text?}: the item's text, else the common comment)."""
    items = body.get("co_executors")
    if not isinstance(items, list) or not items or len(items) > 20:
        raise InvalidInput("field_required", parameter="co_executors")
    comment = _text(body.get("comment"), "comment", required=False)
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        made = []
        for item in items:
            if not isinstance(item, dict):
                raise InvalidInput("invalid_value", parameter="co_executors", value="…")
            target = await _subordinate(conn, appeal, principal, item.get("executor"))
            deadline = _deadline(item.get("deadline_at"), appeal)
            text = _text(item.get("text"), "text", required=False) or comment
            made.append({"executor_id": target["id"], "executor": target["code"],
                         "is_main": False, "deadline_at": deadline, "text": text})  # fmt: skip
        out = await _apply(conn, appeal, principal, "resolutions", comment=comment,
                           extra_new={"co_executors": made})  # fmt: skip
        for m in made:
            await conn.execute(
                "INSERT INTO resolutions (appeal_id, executor_id, is_main, deadline_at, comment,"
                " created_by) VALUES (%s, %s, false, %s, %s, %s)"
                " ON CONFLICT (appeal_id, executor_id) DO UPDATE"
                " SET deadline_at = EXCLUDED.deadline_at,"
                " comment = coalesce(EXCLUDED.comment, resolutions.comment)",
                (appeal["id"], m["executor_id"], m["deadline_at"], m["text"], principal.user_id),
            )
    return {**out, "resolutions": [{**m, "deadline_at": m["deadline_at"].isoformat()}
                                   for m in made]}  # fmt: skip


async def list_resolutions(conn, principal, number: str) -> dict:
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.code AS executor, coalesce(e.short_name, e.name) AS executor_name,"
            " r.is_main, r.deadline_at, r.comment AS text, r.created_at FROM resolutions r"
            " JOIN executors e ON e.id = r.executor_id WHERE r.appeal_id = %s ORDER BY r.id",
            (appeal["id"],),
        )
        rows = await cur.fetchall()
    return {"number": number, "resolutions": [{k: iso(v) for k, v in r.items()} for r in rows]}


def _check_state(appeal: dict, principal: Any, action: str) -> None:
    """The status allows the action: a closed appeal is a 409 before its body is judged."""
    if transition(appeal["status"], action, principal.role) is None:
        raise refuse(appeal["number"], appeal["status"], action)


def _new_term(body: dict, appeal: dict) -> dt.datetime:
    """The term a body asks for ({until} or {days} more): later than the current one, 45
    days from registration at most (art. 20)."""
    cap = appeal["created_at"] + dt.timedelta(days=MAX_TOTAL_DAYS)
    current = appeal["extended_until"] or appeal["deadline_at"]
    if body.get("until") is not None:
        try:
            until = dt.datetime.fromisoformat(str(body["until"]))
        except ValueError:
            raise InvalidInput("invalid_value", parameter="until",
                               value=str(body["until"])[:50]) from None  # fmt: skip
        if until.tzinfo is None:
            until = until.replace(tzinfo=dt.UTC)
    elif isinstance(body.get("days"), int) and not isinstance(body.get("days"), bool):
        try:
            until = current + dt.timedelta(days=body["days"])
        except OverflowError:
            raise InvalidInput("extension_over_limit", parameter="days",
                               limit=cap.date().isoformat(), days=MAX_TOTAL_DAYS) from None  # fmt: skip
    else:
        raise InvalidInput("field_required", parameter="until")
    if until > cap:
        raise InvalidInput("extension_over_limit", parameter="until",
                           limit=cap.date().isoformat(), days=MAX_TOTAL_DAYS)  # fmt: skip
    if until <= current:
        raise InvalidInput("extension_not_later", parameter="until",
                           current=current.date().isoformat())  # fmt: skip
    if until <= clock.now():  # an overdue appeal: a new term must still lie ahead
        raise InvalidInput("extension_in_past", parameter="until",
                           today=clock.kyiv_today().isoformat())  # fmt: skip
    return until


async def ask_extension(conn, principal, number: str, body: dict) -> dict:
    """An executor asks for a longer term {until or days, reason}: the request is an event of
    the appeal's trail (not public) that its manager or a curator reads on the card, and
    grants with extend; the term itself is unchanged."""
    reason = _text(body.get("reason"), "reason")
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        _check_state(appeal, principal, "ask_extension")
        until = _new_term(body, appeal)
        out = await _apply(conn, appeal, principal, "ask_extension", comment=reason,
                           internal=True, extra_new={"requested_until": until})  # fmt: skip
    return {**out, "requested_until": until.isoformat()}


# An executor's request for a longer term awaits a decision while the appeal is open and no
# extend or decline_extension of the appeal came after it (the manager's count, the card).
EXTENSION_DECISIONS = ("extend", "decline_extension")
PENDING_EXTENSION_SQL = (
    "(a.status <> 'closed' AND EXISTS (SELECT 1 FROM appeal_events q"
    " WHERE q.appeal_id = a.id AND q.action = 'ask_extension' AND NOT EXISTS ("
    "SELECT 1 FROM appeal_events d WHERE d.appeal_id = a.id"
    " AND d.action IN ('extend', 'decline_extension') AND (d.at, d.id) > (q.at, q.id))))"
)


async def extension_request(conn, appeal_id: int, status: str) -> dict | None:
    """The appeal's latest request for a longer term and its outcome: state pending, granted
    (the first extend after it), declined (decline_extension, with the reason) or lapsed (the
    appeal closed undecided); None when nobody asked."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT q.at AS asked_at, q.actor AS asked_by, q.comment AS reason,"
            " q.new ->> 'requested_until' AS requested_until, d.action AS decision,"
            " d.at AS decided_at, d.actor AS decided_by, d.comment AS decision_reason,"
            " d.new ->> 'extended_until' AS extended_until"
            " FROM appeal_events q LEFT JOIN LATERAL (SELECT * FROM appeal_events d"
            " WHERE d.appeal_id = q.appeal_id AND d.action = ANY(%s)"
            " AND (d.at, d.id) > (q.at, q.id) ORDER BY d.at, d.id LIMIT 1) d ON true"
            " WHERE q.appeal_id = %s AND q.action = 'ask_extension'"
            " ORDER BY q.at DESC, q.id DESC LIMIT 1",
            (list(EXTENSION_DECISIONS), appeal_id),
        )
        row = await cur.fetchone()
    if row is None:
        return None
    decision = row.pop("decision")
    row["state"] = (
        "granted" if decision == "extend" else "declined" if decision == "decline_extension"
        else "lapsed" if status == "closed" else "pending"
    )  # fmt: skip
    return {k: iso(v) for k, v in row.items()}


async def decline_extension(conn, principal, number: str, body: dict) -> dict:
    """The manager or a curator refuses the executor's pending request {reason}: an internal
    event (never in the public history); the term is unchanged. No pending request: 409."""
    reason = _text(body.get("reason"), "reason")
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        if transition(appeal["status"], "decline_extension", principal.role) is None:
            raise refuse(number, appeal["status"], "decline_extension")
        request = await extension_request(conn, appeal["id"], appeal["status"])
        if request is None or request["state"] != "pending":
            raise Conflict("extension_request_none", number=number)
        out = await _apply(conn, appeal, principal, "decline_extension", comment=reason,
                           internal=True,
                           extra_new={"declined_request": {
                               "asked_at": request["asked_at"],
                               "until": request["requested_until"]}})  # fmt: skip
    return {**out, "requested_until": request["requested_until"], "reason": reason}


async def extend(conn, principal, number: str, body: dict, settings=None) -> dict:
    """Art. 20: a new term, 45 days in total from registration at most; the author is told."""
    reason = _text(body.get("reason"), "reason")
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        _check_state(appeal, principal, "extend")
        until = _new_term(body, appeal)
        out = await _apply(conn, appeal, principal, "extend", comment=reason,
                           changes={"extended_until": until})  # fmt: skip
        queued = await notify.enqueue(
            conn, appeal_id=appeal["id"], event_id=appeal["event_id"], kind="extended",
            settings=settings, params={"until": until, "reason": reason},
        )  # fmt: skip
    out["extended_until"] = until.isoformat()
    out["author_notified"] = queued["author"]  # queued for delivery (gis/notify.py)
    return out


async def check(conn, principal, number: str, body: dict, settings=None) -> dict:
    """The curator's check of an answer: accept (closed) or return (rework)."""
    decision = body.get("decision")
    if decision not in ("accept", "return"):
        raise InvalidInput("invalid_value", parameter="decision", value=str(decision)[:50])
    comment = _text(body.get("comment"), "comment", required=decision == "return")
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        action = "accept" if decision == "accept" else "rework"
        out = await _apply(conn, appeal, principal, action, comment=comment)
        await _notify(conn, settings, appeal, out, author=True)
    return out


async def author_action(conn, principal, number: str, action: str, body: dict,
                        settings=None) -> dict:  # fmt: skip
    """confirm, reject or cancel, by the author (the scope limits a citizen to their own)."""
    comment = _text(body.get("comment"), "comment", required=False, limit=2000)
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        # The author's words may carry personal data: kept for staff, never public.
        out = await _apply(conn, appeal, principal, action, comment=comment, internal=True)
        # The author did it: only the supporters hear of a closing.
        await _notify(conn, settings, appeal, out, author=False)
    return out


async def autoclose(conn, *, days: int, now: dt.datetime | None = None, settings=None) -> list:
    """Close every appeal on check longer than `days` awaiting the author's confirmation."""
    now = now or clock.now()
    cur = await conn.execute(
        "SELECT number FROM appeals WHERE status = 'on_check' AND result = %s"
        " AND coalesce(answered_at, updated_at) < %s ORDER BY id",
        (R_DONE_AWAITING, now - dt.timedelta(days=days)),
    )
    numbers = [r[0] for r in await cur.fetchall()]
    closed = []
    for number in numbers:
        async with conn.transaction():
            appeal = await lock_appeal(conn, None, number)
            if appeal["status"] != "on_check":
                continue
            out = await _apply(conn, appeal, None, "autoclose",
                               comment=f"не підтверджено заявником за {days} днів")  # fmt: skip
            await _notify(conn, settings, appeal, out, author=True)
        closed.append(number)
    return closed


# --- notices ---------------------------------------------------------------------------------


async def _notify(conn, settings, appeal: dict, out: dict, *, author: bool) -> None:
    """Inside the transition's transaction: queue what its author and supporters hear of it
    (gis/notify.py): a closing (the supporters too: `supporters_notified`, how many are
    queued), a return for rework. `author` False when the author made the change."""
    kind = {"closed": "closed", "rework": "rework"}.get(out["status"])
    if kind is None or (kind == "rework" and not author):
        return
    queued = await notify.enqueue(conn, appeal_id=appeal["id"], event_id=appeal["event_id"],
                                  kind=kind, settings=settings, to_author=author)  # fmt: skip
    if kind == "closed":
        out["supporters_notified"] = queued["supporters"]


# --- duplicates --------------------------------------------------------------------------------


async def nearby(conn, *, lon: Any, lat: Any, category: Any, radius_m: float) -> dict:
    """Open appeals of the same category within `radius_m` of the point, nearest first."""
    from gis.routing import check_point, resolve_category

    point = check_point(lon, lat)
    if point is None:
        raise InvalidInput("coordinate_missing", parameter="lon")
    if category is None:
        raise InvalidInput("field_required", parameter="category")
    category_id = await resolve_category(conn, category)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g)"
            " SELECT a.number, a.status, a.address, a.created_at, a.support_count,"
            " round(ST_Distance(a.geom::geography, p.g::geography)::numeric, 1)::float"
            " AS distance_m, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat"
            " FROM appeals a, p WHERE a.category_id = %(c)s AND a.status <> 'closed'"
            " AND ST_DWithin(a.geom::geography, p.g::geography, %(r)s)"
            # the point's council's only: duplicates across a border are not merged
            " AND a.council_id = (" + COUNCIL_AT_POINT_SQL.replace("p.geom", "p.g") + ")"
            " ORDER BY distance_m, a.id LIMIT 20",
            {"lon": point[0], "lat": point[1], "c": category_id, "r": radius_m},
        )
        rows = await cur.fetchall()
    return {
        "category_id": category_id,
        "radius_m": radius_m,
        "items": [{k: iso(v) for k, v in r.items()} for r in rows],
    }


# Supporting an appeal instead of filing a duplicate (a citizen, or a caller recorded by the
# contact centre): gis/supporters.py.


# --- history (public) -------------------------------------------------------------------------

# Comments shown publicly: why an appeal went elsewhere (the history says why); the rest
# (author's words, curator's notes, anything marked internal) stays with staff.
PUBLIC_COMMENT_ACTIONS = ("return", "redirect", "reroute", "extend", "delegate", "transfer")
# Steps that are the staff's own business: not in the public history at all.
# control: gis/manager.py; dispatch: where the daily dispatch sent it (gis/dispatch.py).
STAFF_ONLY_ACTIONS = ("ask_extension", "decline_extension", "control", "dispatch")


async def history(conn, number: str) -> dict:
    """The public part of the trail: action, status change, result, date, the executors'
    names, public answers; never who the people were nor internal comments."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT a.id, a.status, a.closed_at, coalesce(a.extended_until, a.deadline_at)"
            " AS deadline_at FROM appeals a WHERE a.number = %s",
            (number,),
        )
        appeal = await cur.fetchone()
        if appeal is None:
            raise NotFound("appeal_not_found", number=number)
        await cur.execute(
            "SELECT e.at, e.action, e.old, e.new, e.comment, e.internal,"
            " coalesce(x.short_name, x.name) AS executor"
            " FROM appeal_events e LEFT JOIN executors x"
            " ON x.id = CASE WHEN jsonb_typeof(e.new -> 'executor_id') = 'number'"
            " THEN (e.new ->> 'executor_id')::int END"
            " WHERE e.appeal_id = %s ORDER BY e.at, e.id",
            (appeal["id"],),
        )
        events = await cur.fetchall()
    items = []
    for e in events:
        if e["action"] in STAFF_ONLY_ACTIONS:
            continue
        old, new = e["old"] or {}, e["new"] or {}
        item = {
            "at": iso(e["at"]),
            "action": e["action"],
            "status_from": old.get("status"),
            "status_to": new.get("status"),
            "result": new.get("result"),
        }
        if e["executor"]:
            item["executor"] = e["executor"]
        if "answer" in new:
            item["answer"] = new["answer"]
        if "extended_until" in new:
            item["extended_until"] = new["extended_until"]
        if "support_count" in new:
            item["support_count"] = new["support_count"]
        if e["action"] == "locate":  # the place given later: public like any appeal's address
            item["address"] = new.get("address")
        if e["action"] == "transfer":  # art. 7: to which council it went
            item["council"] = new.get("council_name")
        if e["comment"] and not e["internal"] and e["action"] in PUBLIC_COMMENT_ACTIONS:
            item["reason"] = e["comment"]
        items.append(item)
    now = dt.datetime.now(dt.UTC)
    return {
        "number": number,
        "status": appeal["status"],
        "deadline_at": iso(appeal["deadline_at"]),
        "overdue": appeal["closed_at"] is None and appeal["deadline_at"] < now,
        "events": items,
    }

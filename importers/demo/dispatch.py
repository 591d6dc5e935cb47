"""The demo city's daily dispatch: Kyiv's 2017 decision sends the appeals about drug advertising
(написи з рекламою наркотиків) to the police every day, and so does the demo — a subscription
(gis/dispatch.py) sending that category to a police address every morning at 07:00 as CSV.

The real profile of Kyiv's published 1551 data has no such sub-kind (its sub-kinds are known
only in part), so the demo adds one under «Порушення громадського порядку і безпеки», labelled
as added in its `source`, unless the categories already have a sub-kind about drugs. It gets
its share of the kind's generated appeals like any sub-kind, and the demo's routing rules send
it to the police (importers/demo/city.py: DRUG_ADVERTISING).
"""

from __future__ import annotations

import datetime as dt

from importers.demo.organisations import DRUG_ADVERTISING

DRUG_KIND = "Порушення громадського порядку і безпеки"
DRUG_CODE = "demo-drug-advertising"
DRUG_NAME = "Написи з рекламою наркотиків"
DRUG_NAME_EN = "Graffiti advertising drugs"
DRUG_SOURCE = (
    "hromada demo: added — not among the sub-kinds of Kyiv's published 1551 profile; Kyiv's "
    "2017 decision sends these appeals to the police"
)
DRUG_KEYWORDS = ["наркотики", "реклама наркотиків", "закладки", "напис"]

POLICE_EMAIL = "police-demo@hromada.localhost"
SUBSCRIPTION = "[demo] Поліція: написи з рекламою наркотиків"
SEND_AT = dt.time(7, 0)


def drug_categories(conn) -> list[int]:
    """The active sub-kinds about drugs (the demo's own, or a city's)."""
    rows = conn.execute(
        "SELECT id, name FROM categories WHERE parent_id IS NOT NULL AND is_active ORDER BY id"
    ).fetchall()
    return [r[0] for r in rows if DRUG_ADVERTISING.search(r[1])]


def ensure_drug_category(conn) -> list[int]:
    """The drug-advertising sub-kinds, the demo's added when there is none (nor its kind:
    then nothing, and the demo has no such subscription)."""
    found = drug_categories(conn)
    if found:
        return found
    kind = conn.execute(
        "SELECT id, deadline_days FROM categories WHERE parent_id IS NULL AND name = %s",
        (DRUG_KIND,),
    ).fetchone()
    if kind is None:
        return []
    conn.execute(
        "INSERT INTO categories (parent_id, code, name, name_en, deadline_days, source, keywords)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET is_active = true",
        (kind[0], DRUG_CODE, DRUG_NAME, DRUG_NAME_EN, kind[1], DRUG_SOURCE, DRUG_KEYWORDS),
    )
    return drug_categories(conn)


def build_subscription(conn, categories: list[int], now: dt.datetime) -> int | None:
    """The police's subscription, made again (its batches with it); made at `now`, so its
    first file holds the day before (gis/dispatch.py)."""
    conn.execute("DELETE FROM dispatch_subscriptions WHERE name = %s", (SUBSCRIPTION,))
    if not categories:
        return None
    row = conn.execute(
        "INSERT INTO dispatch_subscriptions (name, category_ids, recipient_email, send_at,"
        " format, created_at) VALUES (%s, %s, %s, %s, 'csv', %s) RETURNING id",
        (SUBSCRIPTION, categories, POLICE_EMAIL, SEND_AT, now),
    ).fetchone()
    assert row is not None  # INSERT … RETURNING
    return int(row[0])

"""Appeals and their events partitioned by month (issue 18, item 3; migration 0020,
gis/partitions.py): keyset paging of the staff queue and of the public feed across months,
the audit chain across partitions, the cells equal to SQL after inserts in two months, a
month detached (gone from the feed and the map's cells) and attached back, and a row dated
in a month without a partition landing in DEFAULT and moved out of it by `ensure`.

Runs on a small demo city (seed 18, 1,500 appeals over the two years ending today: `hromada
demo --years`, whose loader makes every month's partition before its rows come).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from argparse import Namespace

import psycopg
import pytest

from api.policy import Principal
from gis import partitions
from gis.audit import verify
from gis.settings import Settings

DEMO = {"prefix": "parts", "seed": 18, "appeals": 1500, "years": 2}
FEED = "/api/v1/appeals/public"
CURATOR = Principal(user_id=1, role="curator", every_council=True)

# The cells as the trigger keeps them, against a recount of the appeals.
CELLS_DIFF = """
WITH recount AS (
  SELECT floor((ST_X(geom_3857) + 20037508.342789244) / 611.49622628141)::integer AS cx,
         floor((20037508.342789244 - ST_Y(geom_3857)) / 611.49622628141)::integer AS cy,
         status, kind, coalesce(district_id, 0) AS district_id, council_id, count(*) AS n
    FROM appeals WHERE geom_3857 IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6),
kept AS (SELECT cx, cy, status, kind, district_id, council_id, n FROM tiles.appeal_cells
          WHERE n <> 0)
SELECT count(*) FROM ((SELECT * FROM recount EXCEPT SELECT * FROM kept)
                      UNION ALL (SELECT * FROM kept EXCEPT SELECT * FROM recount)) d
"""


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def one(url: str, query: str, params=None):
    return sql(url, query, params)[0][0]


def copy_appeal(url: str, at: str, number: str) -> int:
    """A new appeal like an existing located one, dated `at`; its id."""
    return one(url, (
        "INSERT INTO appeals (number, category_id, kind, text, is_public, channel, status,"
        " geom, address, district_id, ward_id, executor_id, created_at, deadline_at,"
        " generated, council_id)"
        " SELECT %s, category_id, kind, text, true, channel, 'registered', geom, address,"
        " district_id, ward_id, executor_id, %s::timestamptz, %s::timestamptz + interval"
        " '15 days', false, council_id FROM appeals WHERE geom IS NOT NULL ORDER BY id LIMIT 1"
        " RETURNING id"), (number, at, at))  # fmt: skip


def feed_total(client) -> int:
    r = client.get(FEED, params={"period": "all", "limit": 1})
    assert r.status_code == 200, r.text
    return r.json()["total"]


def test_tables_are_partitioned_by_month_and_paging_crosses_months(client, demo_url):
    kinds = dict(sql(demo_url, "SELECT relname, relkind::text FROM pg_class"
                               " WHERE relname IN ('appeals', 'appeal_events', 'appeal_ids')"))  # fmt: skip
    assert kinds == {"appeals": "p", "appeal_events": "p", "appeal_ids": "r"}
    with psycopg.connect(demo_url) as conn:
        listed = partitions.listing(conn)
    months = {p["month"]: p["rows"] for p in listed if p["table"] == "appeals"}
    assert months["default"] == 0  # the demo's two years have their partitions
    held = [m for m, n in months.items() if m != "default" and n]
    oldest = one(demo_url, "SELECT min(created_at) FROM appeals")
    assert dt.datetime.now(dt.UTC) - oldest > dt.timedelta(days=600)
    assert len(held) >= 24 and sum(months.values()) == one(demo_url, "SELECT count(*) FROM appeals")
    assert one(demo_url, "SELECT count(*) FROM appeal_ids") == sum(months.values())

    # The staff queue, newest first, 97 a page: every appeal once, in order, over the months.
    async def walk_queue() -> list[dict]:
        from gis.staff_queue import queue

        out, after = [], None
        async with await psycopg.AsyncConnection.connect(demo_url) as conn:
            while True:
                page = await queue(conn, CURATOR, limit=97, after=after)
                out += page["items"]
                if not page["next"]:
                    return out
                privileged, last = page["next"].split("-")
                after = (int(privileged), int(last))

    seen = asyncio.run(walk_queue())
    ids = dict(sql(demo_url, "SELECT number, id FROM appeals"))
    keys = [(int(i["privileged"]), ids[i["number"]]) for i in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert len(keys) == one(demo_url, "SELECT count(*) FROM appeals")
    assert len({i["created_at"][:7] for i in seen}) >= 12

    # The public feed, newest first, 173 a page, the same.
    items, page = [], client.get(FEED, params={"period": "all", "limit": 173}).json()
    while True:
        items += page["items"]
        if not page["next"]:
            break
        page = client.get(
            FEED, params={"period": "all", "limit": 173, "after": page["next"]}
        ).json()
    stamps = [dt.datetime.fromisoformat(i["created_at"]) for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert len({i["number"] for i in items}) == len(items) == page["total"]
    assert len({s.strftime("%Y-%m") for s in stamps}) >= 12


def test_audit_chain_and_cells_across_months_and_default(demo_url):
    assert one(demo_url, CELLS_DIFF) == 0
    located = one(demo_url, "SELECT sum(n) FROM tiles.appeal_cells")
    # Two real appeals in two months (one in a month far ahead: no partition → DEFAULT).
    a = copy_appeal(demo_url, "2026-01-31T23:30:00Z", "PT-1")
    b = copy_appeal(demo_url, "2031-05-10T10:00:00Z", "PT-2")
    assert one(demo_url, "SELECT tableoid::regclass::text FROM appeals WHERE id = %s", (a,)) == (
        "appeals_2026_01"
    )
    assert one(demo_url, "SELECT tableoid::regclass::text FROM appeals WHERE id = %s", (b,)) == (
        "appeals_default"
    )
    assert one(demo_url, "SELECT sum(n) FROM tiles.appeal_cells") == located + 2
    assert one(demo_url, CELLS_DIFF) == 0
    # Their events: chained across partitions (and one in DEFAULT).
    with psycopg.connect(demo_url) as conn:
        for appeal, at in ((a, "2026-01-31T23:40:00Z"), (a, "2026-02-01T00:10:00Z"),
                           (b, "2031-05-10T10:01:00Z")):  # fmt: skip
            conn.execute(
                "INSERT INTO appeal_events (appeal_id, at, actor, action) VALUES (%s, %s, 't',"
                " 'created')", (appeal, at))  # fmt: skip
    where = sql(demo_url, "SELECT tableoid::regclass::text, chain_seq FROM appeal_events"
                          " WHERE chain_seq IS NOT NULL ORDER BY chain_seq")  # fmt: skip
    assert [w[0] for w in where][-3:] == [
        "appeal_events_2026_01",
        "appeal_events_2026_02",
        "appeal_events_default",
    ]
    with psycopg.connect(demo_url) as conn:
        assert verify(conn)["ok"]

    # `ensure` makes 2031-05 and moves both rows out of DEFAULT; nothing else changes.
    with psycopg.connect(demo_url, autocommit=True) as conn:
        made = partitions.ensure(conn)
    assert made["moved"] == {"appeals_2031_05": 1, "appeal_events_2031_05": 1}
    assert one(demo_url, "SELECT count(*) FROM appeals_default") == 0
    assert one(demo_url, "SELECT count(*) FROM appeal_events_default") == 0
    assert one(demo_url, "SELECT tableoid::regclass::text FROM appeals WHERE id = %s", (b,)) == (
        "appeals_2031_05"
    )
    with psycopg.connect(demo_url) as conn:
        assert verify(conn)["ok"]
    assert one(demo_url, CELLS_DIFF) == 0
    # The months ahead exist; a second run makes nothing.
    ahead = partitions.add_months(dt.date.today().replace(day=1), partitions.AHEAD)
    assert one(demo_url, "SELECT to_regclass(%s) IS NOT NULL", (f"appeals_{ahead:%Y_%m}",))
    with psycopg.connect(demo_url, autocommit=True) as conn:
        assert partitions.ensure(conn) == {"created": [], "moved": {}}

    # Deleting an appeal deletes its anchor and, by it, its events (the demo's way: the
    # events of a generated appeal; a real appeal's events are append-only).
    with psycopg.connect(demo_url) as conn:
        conn.execute("SET hromada.audit_maintenance = 'on'")
        conn.execute("DELETE FROM appeals WHERE id = ANY(%s)", ([a, b],))
        conn.execute("DELETE FROM audit_chain_heads WHERE chain = 'appeals'")
    assert one(demo_url, "SELECT count(*) FROM appeal_ids WHERE id = ANY(%s)", ([a, b],)) == 0
    assert one(demo_url, "SELECT count(*) FROM appeal_events WHERE appeal_id = ANY(%s)",
               ([a, b],)) == 0  # fmt: skip
    assert one(demo_url, CELLS_DIFF) == 0
    with psycopg.connect(demo_url) as conn:
        outcome = verify(conn)
        assert outcome["ok"], outcome


def test_a_month_detached_leaves_the_feed_and_the_cells_and_comes_back(client, demo_url,
                                                                       capsys):  # fmt: skip
    from cli.main import cmd_partitions

    def cli(action: str, month: str | None = None) -> tuple[int, str]:
        rc = cmd_partitions(Namespace(action=action, month=month), Settings(database_url=demo_url))
        out = capsys.readouterr()
        return rc, out.out + out.err

    month = one(demo_url, "SELECT to_char(min(created_at) AT TIME ZONE 'UTC' + interval '40 days',"
                          " 'YYYY-MM') FROM appeals")  # fmt: skip
    name = f"appeals_{month.replace('-', '_')}"
    in_month = one(demo_url, f"SELECT count(*) FROM {name}")
    total, located = feed_total(client), one(demo_url, "SELECT sum(n) FROM tiles.appeal_cells")
    assert in_month > 0 and total == one(demo_url, "SELECT count(*) FROM appeals")

    rc, out = cli("detach", month)
    assert rc == 0, out
    assert one(demo_url, "SELECT count(*) FROM appeals") == total - in_month
    assert one(demo_url, f"SELECT count(*) FROM archive_{name}") == in_month
    assert feed_total(client) == total - in_month
    assert one(demo_url, CELLS_DIFF) == 0
    assert one(demo_url, "SELECT sum(n) FROM tiles.appeal_cells") < located
    rc, out = cli("list")
    assert rc == 0 and f"archive_{name}  (detached)" in out
    with psycopg.connect(demo_url) as conn:
        outcome = verify(conn)
        assert outcome["ok"], outcome  # the month's events stay in the chain
    assert cli("detach", month)[0] == 2  # not attached any more
    assert cli("detach", "2026-13")[0] == 2

    rc, out = cli("attach", month)
    assert rc == 0, out
    assert feed_total(client) == total
    assert one(demo_url, CELLS_DIFF) == 0
    assert one(demo_url, "SELECT sum(n) FROM tiles.appeal_cells") == located
    assert cli("attach", month)[0] == 2


@pytest.mark.parametrize("text", ["2026", "2026-00", "26-01", "2026-1"])
def test_a_month_is_yyyy_mm(text):
    with pytest.raises(partitions.PartitionError):
        partitions.parse_month(text)

"""appeal counts per grid cell and council, for a council's low-zoom vector tiles

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Issue 17. A council's map (`/tiles/appeals/{z}/{x}/{y}.mvt?council=…`) drew its clusters by
counting the council's points, because `tiles.appeal_cells` (0006) had no council: a few
milliseconds for a small council, seconds at zoom 10 for one with millions of appeals. The
cells now count per council too: the key is (cx, cy, status, kind, district_id, council_id),
so a council's clusters are summed from the cells like every other cluster tile, and the
unfiltered ones sum the councils' rows of a cell (few cells lie on a border, so the table
grows little).

The trigger function (statement-level, transition tables, as in 0006) carries the council of
the inserted, deleted and updated rows: an appeal transferred to another council (its
council_id updated) takes its count from the one and adds it to the other.

The upgrade locks `appeals` against writers, rebuilds the table and refills it from the
appeals in one INSERT … SELECT … GROUP BY (the Kyiv demo's 50,000 appeals, 40,936 located:
0.11–0.20 s; the bench's 3 million, scaled: 10–15 s, writers waiting); the downgrade restores
0006's shape and counts.
"""

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

WORLD = 20037508.342789244
CELL = 2 * WORLD / 2**16


def _table(council: bool) -> str:
    key = "cx, cy, status, kind, district_id" + (", council_id" if council else "")
    return (
        "CREATE TABLE tiles.appeal_cells (cx integer NOT NULL, cy integer NOT NULL,"
        " status text NOT NULL, kind text NOT NULL, district_id integer NOT NULL,"
        + (" council_id integer NOT NULL," if council else "")
        + " n bigint NOT NULL, sx double precision NOT NULL, sy double precision NOT NULL,"
        f" PRIMARY KEY ({key}))"
    )


def _cells(source: str, sign: str, council: bool) -> str:
    return (
        f"SELECT floor((ST_X(geom_3857) + {WORLD}) / {CELL})::integer AS cx,"
        f" floor(({WORLD} - ST_Y(geom_3857)) / {CELL})::integer AS cy,"
        " status, kind, coalesce(district_id, 0) AS district_id,"
        + (" council_id," if council else "")
        + f" {sign}1 AS n, {sign}ST_X(geom_3857) AS px, {sign}ST_Y(geom_3857) AS py"
        f" FROM {source} WHERE geom_3857 IS NOT NULL"
    )


def _apply(rows: str, council: bool) -> str:
    key = "cx, cy, status, kind, district_id" + (", council_id" if council else "")
    groups = "1, 2, 3, 4, 5" + (", 6" if council else "")
    return (
        f"INSERT INTO tiles.appeal_cells AS c ({key}, n, sx, sy)"
        f" SELECT {key}, sum(n), sum(px), sum(py)"
        f" FROM ({rows}) AS d GROUP BY {groups}"
        f" HAVING sum(n) <> 0 OR sum(px) <> 0 OR sum(py) <> 0 ORDER BY {groups}"
        f" ON CONFLICT ({key}) DO UPDATE"
        " SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy"
    )


def _fill(council: bool) -> str:
    """Every located appeal counted once, into the empty table (one INSERT … GROUP BY)."""
    key = "cx, cy, status, kind, district_id" + (", council_id" if council else "")
    return (
        f"INSERT INTO tiles.appeal_cells ({key}, n, sx, sy)"
        f" SELECT {key}, sum(n), sum(px), sum(py) FROM ({_cells('appeals', '', council)}) AS d"
        f" GROUP BY {key}"
    )


def _function(council: bool) -> str:
    def apply(*parts: tuple[str, str]) -> str:
        return _apply(" UNION ALL ".join(_cells(s, sign, council) for s, sign in parts), council)

    return f"""
CREATE OR REPLACE FUNCTION tiles.appeal_cells_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {apply(("new_rows", ""))};
    ELSIF TG_OP = 'UPDATE' THEN
        {apply(("new_rows", ""), ("old_rows", "-"))};
    ELSIF TG_OP = 'DELETE' THEN
        {apply(("old_rows", "-"))};
    ELSE
        TRUNCATE tiles.appeal_cells;
    END IF;
    RETURN NULL;
END
$$
"""


def _rebuild(council: bool) -> None:
    # No appeal written meanwhile: its count would be in neither the refill nor the table.
    op.execute("LOCK TABLE appeals IN SHARE MODE")
    op.execute(_function(council))
    op.execute("DROP TABLE tiles.appeal_cells")
    op.execute(_table(council))
    op.execute(_fill(council))


def upgrade() -> None:
    _rebuild(council=True)


def downgrade() -> None:
    _rebuild(council=False)

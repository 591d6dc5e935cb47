"""appeal counts per category, day and z13 cell for filtered low-zoom tiles; the z16 cell
index carries the partition key

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Issue 18, item 6. A cluster tile filtered on a category and a period (the map's usual
"this category, the last 90 days") counted the matching points through
ix_appeals_tiles_category: over 3 million appeals the central z10 tile read 68,109 index
entries, 52 ms alone and about 200 ms p50 with 8 clients on two cores (the database's
ceiling for it, about 40 tiles/s). `tiles.appeal_category_cells` keeps, per category × UTC
day × z13 cell (a cluster cell of a z10 tile) × council, the count, the count per status and
the coordinate sums, so a cluster tile of zoom 10 or less sums the whole days of its period
from it (3,532 rows for that tile) and counts points only in the partial days at the period's
edges (tiles/mvt.py). Status is in columns, not in the key: a day of a category holds few
appeals per cell, and a key per status would double the rows.

Kept exact as tiles.appeal_cells is (0006, 0019): statement-level triggers with transition
tables add what an INSERT brings, take away what a DELETE removes, an UPDATE both (a status
or category change, a move, a transfer between councils, a new created_at), a TRUNCATE
empties it; detaching or attaching a month (gis/partitions.py) takes its counts away or adds
them back. Rows whose count falls to zero stay (they add nothing).

The same migration adds created_at (the partition key) to ix_appeals_tiles_cell (0006: the z16
cell key, INCLUDE id, geom_3857). The unfiltered z14/z15 tiles find the ids of their newest
10,000 appeals in that index alone, then read those rows; since 0020 a lookup by id alone
probed every month's primary key (id, created_at): 10,000 ids × 26 partitions, 383,268
buffers and 1.7 s for the central z14 tile over 3 million appeals. With created_at the tile
looks each row up by (id, created_at) and the planner prunes to its month at run time
(0.38 s). Rebuilt on every partition: 7.8 s on the bench's 3 million, 175 → 202 MB.

The upgrade locks `appeals` against writers and fills the table from the appeals in one
INSERT … SELECT … GROUP BY, in key order (a tile's rows then lie in few pages). On the bench's
3 million appeals: 453,539 rows.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

WORLD = 20037508.342789244
LEVEL = 13  # the cells are the tiles of this zoom
CELL = 2 * WORLD / 2**LEVEL
STATUSES = ("registered", "in_work", "on_check", "rework", "closed")  # gis.models
KEY = "category_id, day, cx, cy, council_id"
SUMS = ("n", *STATUSES, "sx", "sy")

TABLE = (
    "CREATE TABLE tiles.appeal_category_cells (category_id integer NOT NULL,"
    " day date NOT NULL, cx integer NOT NULL, cy integer NOT NULL, council_id integer NOT NULL,"
    " n integer NOT NULL,"
    + "".join(f" {s} integer NOT NULL," for s in STATUSES)
    + " sx double precision NOT NULL, sy double precision NOT NULL,"
    f" PRIMARY KEY ({KEY}))"
)


def _cells(source: str, sign: str) -> str:
    """The rows of `source` as (key, ±1, ±1 in its status' column, ±x, ±y); gis/partitions.py
    computes the same."""
    return (
        "SELECT category_id, (created_at AT TIME ZONE 'UTC')::date AS day,"
        f" floor((ST_X(geom_3857) + {WORLD}) / {CELL})::integer AS cx,"
        f" floor(({WORLD} - ST_Y(geom_3857)) / {CELL})::integer AS cy, council_id,"
        f" {sign}1 AS n,"
        + "".join(f" CASE WHEN status = '{s}' THEN {sign}1 ELSE 0 END AS {s}," for s in STATUSES)
        + f" {sign}ST_X(geom_3857) AS sx, {sign}ST_Y(geom_3857) AS sy"
        f" FROM {source} WHERE geom_3857 IS NOT NULL"
    )


def _apply(rows: str) -> str:
    sums = ", ".join(f"sum({s})" for s in SUMS)
    return (
        f"INSERT INTO tiles.appeal_category_cells AS c ({KEY}, {', '.join(SUMS)})"
        f" SELECT {KEY}, {sums} FROM ({rows}) AS d GROUP BY 1, 2, 3, 4, 5"
        " HAVING " + " OR ".join(f"sum({s}) <> 0" for s in SUMS) + " ORDER BY 1, 2, 3, 4, 5"
        f" ON CONFLICT ({KEY}) DO UPDATE SET "
        + ", ".join(f"{s} = c.{s} + excluded.{s}" for s in SUMS)
    )


FUNCTION = f"""
CREATE FUNCTION tiles.appeal_category_cells_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply(_cells("new_rows", ""))};
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_cells("new_rows", "") + " UNION ALL " + _cells("old_rows", "-"))};
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(_cells("old_rows", "-"))};
    ELSE
        TRUNCATE tiles.appeal_category_cells;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER appeals_category_cells_insert AFTER INSERT ON appeals REFERENCING NEW TABLE"
    " AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_category_cells_changed()",
    "CREATE TRIGGER appeals_category_cells_update AFTER UPDATE ON appeals REFERENCING OLD TABLE"
    " AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION tiles.appeal_category_cells_changed()",
    "CREATE TRIGGER appeals_category_cells_delete AFTER DELETE ON appeals REFERENCING OLD TABLE"
    " AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_category_cells_changed()",
    "CREATE TRIGGER appeals_category_cells_truncate AFTER TRUNCATE ON appeals"
    " FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_category_cells_changed()",
]


CELL_KEY = (
    f"(floor(({WORLD} - ST_Y(geom_3857)) / {2 * WORLD / 2**16})::bigint * 65536"
    f" + floor((ST_X(geom_3857) + {WORLD}) / {2 * WORLD / 2**16})::bigint)"
)  # tiles.mvt.CELL_KEY, as 0006 indexes it


def _cell_index(include: str) -> None:
    op.execute("DROP INDEX ix_appeals_tiles_cell")
    op.execute(f"CREATE INDEX ix_appeals_tiles_cell ON appeals ({CELL_KEY}) INCLUDE ({include})")


def upgrade() -> None:
    _cell_index("id, geom_3857, created_at")
    # No appeal written meanwhile: its count would be in neither the fill nor the table.
    op.execute("LOCK TABLE appeals IN SHARE MODE")
    op.execute(TABLE)
    op.execute(FUNCTION)
    op.execute(
        f"INSERT INTO tiles.appeal_category_cells ({KEY}, {', '.join(SUMS)})"
        f" SELECT {KEY}, {', '.join(f'sum({s})' for s in SUMS)}"
        f" FROM ({_cells('appeals', '')}) AS d GROUP BY {KEY} ORDER BY {KEY}"
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS appeals_category_cells_{name} ON appeals")
    op.execute("DROP FUNCTION IF EXISTS tiles.appeal_category_cells_changed()")
    op.execute("DROP TABLE IF EXISTS tiles.appeal_category_cells")
    _cell_index("id, geom_3857")

"""appeal counts per grid cell, for the low-zoom vector tiles

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Issue 5, vector tiles. Below zoom 14 an appeals tile holds clusters, not points: counts per
grid cell. Counting three million points for a whole-city view is a second's work; summing
what `tiles.appeal_cells` already holds is a few milliseconds. Each row counts the appeals of
one cell × status × kind × district: the cells are the tiles of zoom 16 (611 m of Web
Mercator on a side), numbered like tiles (cx from the west, cy from the north), so the cells
of any lower zoom are groups of them. `sx`, `sy` are the sums of the points' EPSG:3857
coordinates, for the clusters' mean positions. `district_id` 0 stands for none.

Statement-level triggers with transition tables keep it exact: an INSERT adds what it
inserted, a DELETE takes away, an UPDATE both (only rows whose key or position changed move
anything), a TRUNCATE empties it. Rows whose count falls to zero stay (they add nothing).

The table lives in its own schema `tiles`: it is the tile server's index, not data.

Filters the cells cannot answer (a period, a category, an executor) count the points
themselves. The commonest, a category over the last months and a period alone, read the
indexes `ix_appeals_tiles_category` on (category_id, created_at) and `ix_appeals_tiles_period`
on (created_at), both carrying the geometry and the status: index-only scans, never the wide
rows of `appeals` (about 1 kB each).

Raw tiles (zoom 14 and deeper) of unfiltered appeals hold the newest 10,000 of the tile's
appeals: `ix_appeals_tiles_cell`, on the appeal's z16 cell number (cy × 65536 + cx, the same
cells as above) carrying id and geometry, finds the ids of a tile's appeals without reading
their rows (an index-only scan over the tile's cells), and only the newest 10,000 rows are
then read. A dense z14 tile in central Kyiv holds over 100,000 of 3 million appeals.
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WORLD = 20037508.342789244
CELL = 2 * WORLD / 2**16

TABLE = """
CREATE TABLE tiles.appeal_cells (
    cx integer NOT NULL,
    cy integer NOT NULL,
    status text NOT NULL,
    kind text NOT NULL,
    district_id integer NOT NULL,
    n bigint NOT NULL,
    sx double precision NOT NULL,
    sy double precision NOT NULL,
    PRIMARY KEY (cx, cy, status, kind, district_id)
)
"""


# The z16 cell of an appeal as one number; tiles/mvt.py writes the same expression.
CELL_KEY = (
    f"(floor(({WORLD} - ST_Y(geom_3857)) / {CELL})::bigint * 65536"
    f" + floor((ST_X(geom_3857) + {WORLD}) / {CELL})::bigint)"
)


def _cells(source: str, sign: str) -> str:
    return (
        f"SELECT floor((ST_X(geom_3857) + {WORLD}) / {CELL})::integer AS cx,"
        f" floor(({WORLD} - ST_Y(geom_3857)) / {CELL})::integer AS cy,"
        " status, kind, coalesce(district_id, 0) AS district_id,"
        f" {sign}1 AS n, {sign}ST_X(geom_3857) AS px, {sign}ST_Y(geom_3857) AS py"
        f" FROM {source} WHERE geom_3857 IS NOT NULL"
    )


def _apply(rows: str) -> str:
    return (
        "INSERT INTO tiles.appeal_cells AS c (cx, cy, status, kind, district_id, n, sx, sy)"
        " SELECT cx, cy, status, kind, district_id, sum(n), sum(px), sum(py)"
        f" FROM ({rows}) AS d GROUP BY 1, 2, 3, 4, 5"
        " HAVING sum(n) <> 0 OR sum(px) <> 0 OR sum(py) <> 0 ORDER BY 1, 2, 3, 4, 5"
        " ON CONFLICT (cx, cy, status, kind, district_id) DO UPDATE"
        " SET n = c.n + excluded.n, sx = c.sx + excluded.sx, sy = c.sy + excluded.sy"
    )


FUNCTION = f"""
CREATE FUNCTION tiles.appeal_cells_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply(_cells("new_rows", ""))};
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_cells("new_rows", "") + " UNION ALL " + _cells("old_rows", "-"))};
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(_cells("old_rows", "-"))};
    ELSE
        TRUNCATE tiles.appeal_cells;
    END IF;
    RETURN NULL;
END
$$
"""

TRIGGERS = [
    "CREATE TRIGGER appeals_cells_insert AFTER INSERT ON appeals REFERENCING NEW TABLE AS"
    " new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_cells_changed()",
    "CREATE TRIGGER appeals_cells_update AFTER UPDATE ON appeals REFERENCING OLD TABLE AS"
    " old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION tiles.appeal_cells_changed()",
    "CREATE TRIGGER appeals_cells_delete AFTER DELETE ON appeals REFERENCING OLD TABLE AS"
    " old_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_cells_changed()",
    "CREATE TRIGGER appeals_cells_truncate AFTER TRUNCATE ON appeals"
    " FOR EACH STATEMENT EXECUTE FUNCTION tiles.appeal_cells_changed()",
]


def upgrade() -> None:
    op.execute("CREATE SCHEMA tiles")
    op.execute(TABLE)
    op.execute(FUNCTION)
    op.execute(
        "CREATE INDEX ix_appeals_tiles_category ON appeals (category_id, created_at)"
        " INCLUDE (geom_3857, status)"
    )
    op.execute(
        "CREATE INDEX ix_appeals_tiles_period ON appeals (created_at) INCLUDE (geom_3857, status)"
    )
    op.execute(
        f"CREATE INDEX ix_appeals_tiles_cell ON appeals ({CELL_KEY}) INCLUDE (id, geom_3857)"
    )
    # What is already there, counted once.
    op.execute(_apply(_cells("appeals", "")))
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS appeals_cells_{name} ON appeals")
    op.execute("DROP SCHEMA IF EXISTS tiles CASCADE")
    op.execute("DROP INDEX IF EXISTS ix_appeals_tiles_category")
    op.execute("DROP INDEX IF EXISTS ix_appeals_tiles_cell")
    op.execute("DROP INDEX IF EXISTS ix_appeals_tiles_period")

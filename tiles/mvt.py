"""Mapbox Vector Tiles of a layer, built by PostgreSQL in one statement.

Raw tiles: the layer's features whose EPSG:3857 geometry meets the tile's envelope widened by
the buffer (`geom_3857 && ST_TileEnvelope(z, x, y, margin => BUFFER / EXTENT)`, so the GiST
index is used), clipped and quantised by `ST_AsMVTGeom`, newest first and at most
`max_features` of them, encoded by `ST_AsMVT` with the row id as the feature id.

Cluster tiles (z below the layer's `cluster_below_zoom`): counts per grid cell of
`CLUSTER_CELLS` × `CLUSTER_CELLS` cells per tile (32 px cells on a 256 px tile), each cell a
point at the mean position of what it holds, with `count` and a count per status. A cell at
zoom z is exactly a tile at zoom z + 3, so cells nest from zoom to zoom. For the appeals
layer, filtered on nothing or only on status, kind, district and council, the counts come from
`tiles.appeal_cells` (migrations 0006 and 0019: counts and coordinate sums per z16-tile-sized
cell × status × kind × district × council, kept by triggers), so a whole-city view sums a few
thousand rows instead of reading three million points. Filtered on categories (and a period,
councils) at zoom ≤ 10, the whole days of the period are summed from
`tiles.appeal_category_cells` (migration 0022: per category × UTC day × z13 cell × council, kept
by triggers too) and only the partial days at the period's edges are counted from the points.
Any other filter aggregates the matching points themselves, found through the indexes on
(category_id, created_at) and the like. A
council's map (`council=`, issue 17) sums that council's cells; every council at once (a
one-council install) is no filter (layers.features.resolve_filters) and shares the unfiltered
tiles and their cache.

Every literal is inlined in the SQL text (`tile_sql_text` returns exactly what the server
runs, after TILE_SETTINGS), so a tile is one simple statement, easy to replay in psql or
pgbench (with `PGOPTIONS='-c jit=off -c max_parallel_workers_per_gather=0'`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from psycopg import sql

from gis.models import APPEAL_STATUSES
from layers.errors import InvalidParameter
from layers.features import (
    Filters,
    _col,
    check_parameters,
    filter_conditions,
    filter_parameters,
    parse_filters,
    property_sql,
)
from layers.registry import CORE_LAYERS, Layer

EXTENT = 4096  # tile coordinates per side
BUFFER = 256  # tile coordinates drawn beyond each edge, so symbols are not cut
MAX_ZOOM = 22
CLUSTER_CELLS = 8  # cells per tile side in cluster tiles
CLUSTER_CELL_LEVEL = 3  # log2(CLUSTER_CELLS): a cell at zoom z is a tile at z + 3
AGGREGATE_LEVEL = 16  # appeal_cells' cells are tiles at this zoom
AGGREGATE_TABLE = ("tiles", "appeal_cells")
AGGREGATE_FILTERS = {
    "status": "status", "kind": "kind", "district": "district_id", "council": "council_id",
}  # fmt: skip
DEFAULT_MAX_FEATURES = 10_000
WORLD = 20037508.342789244  # half the side of the Web Mercator square, in metres
# Tables whose rows carry no stored EPSG:3857 copy: transformed per row (they are tiny).
WITHOUT_3857 = frozenset({"hromadas"})
CLUSTER_FIELDS = ("count", *APPEAL_STATUSES)
# Views whose own table serves the clusters when the filters name only its columns: a view
# hides the table's indexes from index-only scans, and clusters read only a few columns.
BASE_TABLES = {
    "appeal_features": (
        "appeals",
        frozenset({"status", "kind", "category_id", "district_id", "executor_id", "created_at"})
        | {"council_id"},
    ),
}
# The z16 cell of a point as one number (cy × 65536 + cx), exactly as migration 0006 indexes
# it (ix_appeals_tiles_cell, carrying id and geometry): the raw tiles of a view's table find
# their newest ids in that index, without reading the rows of every appeal in a dense tile.
_CELL = 2 * WORLD / 2**AGGREGATE_LEVEL
CELL_KEY = (
    f"(floor(({WORLD} - ST_Y(geom_3857)) / {_CELL})::bigint * 65536"
    f" + floor((ST_X(geom_3857) + {WORLD}) / {_CELL})::bigint)"
)
MAX_CELL_KEYS = 64  # more cells than this (zoom < 14): the GiST index instead
PARTITION_KEY = "created_at"  # appeals' (0020), carried by ix_appeals_tiles_cell (0022)
# Sent before every tile's SELECT, in the same implicit transaction: JIT compiles for longer
# than a tile runs, and parallel workers halve throughput under concurrent clients.
TILE_SETTINGS = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; "


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int


def parse_tile_address(z: object, x: object, y: object) -> TileAddress:
    """z, x and y of a tile path: integers, 0 ≤ z ≤ MAX_ZOOM and 0 ≤ x, y < 2^z; anything
    else is an InvalidParameter naming the part at fault."""
    values = {}
    for name, text in (("z", z), ("x", x), ("y", y)):
        value = text if isinstance(text, int) else None
        if isinstance(text, str) and re.fullmatch(r"[0-9]{1,9}", text):
            value = int(text)
        if value is None:
            raise InvalidParameter("invalid_tile", name, value=text, max_zoom=MAX_ZOOM)
        values[name] = value
    if not 0 <= values["z"] <= MAX_ZOOM:
        raise InvalidParameter("zoom_out_of_range", "z", value=z, max_zoom=MAX_ZOOM)
    limit = 2 ** values["z"]
    for name in ("x", "y"):
        if not 0 <= values[name] < limit:
            raise InvalidParameter(
                "tile_out_of_range", name, value=values[name], z=values["z"], max=limit - 1
            )
    return TileAddress(values["z"], values["x"], values["y"])


def is_cluster_tile(layer: Layer, z: int) -> bool:
    return layer.cluster_below_zoom is not None and z < layer.cluster_below_zoom


def tile_properties(layer: Layer, role: str | None) -> tuple[str, ...]:
    """The properties each feature of the layer's raw tiles carries for this role (a
    thematic layer: all the imported attributes, named here by its JSONB column)."""
    if layer.properties_column:
        return (layer.properties_column,)
    return layer.tile_properties or layer.properties_for(role)


def _geom_3857(layer: Layer) -> sql.Composable:
    if layer.table in WITHOUT_3857:
        return sql.SQL("ST_Transform({}, 3857)").format(_col(layer.geometry_column))
    return _col("geom_3857")


def _in_envelope(layer: Layer, envelope: sql.Composable) -> sql.Composable:
    """The index-friendly test of the layer's geometry against an EPSG:3857 envelope."""
    if layer.table in WITHOUT_3857:
        return sql.SQL("{} && ST_Transform({}, 4326)").format(_col(layer.geometry_column), envelope)
    return sql.SQL("{} && {}").format(_col("geom_3857"), envelope)


def _envelope(t: TileAddress, margin: float | None = None) -> sql.Composable:
    if margin is None:
        return sql.SQL("ST_TileEnvelope({}, {}, {})").format(
            sql.Literal(t.z), sql.Literal(t.x), sql.Literal(t.y)
        )
    return sql.SQL("ST_TileEnvelope({}, {}, {}, margin => {})").format(
        sql.Literal(t.z), sql.Literal(t.x), sql.Literal(t.y), sql.Literal(margin)
    )


def _where(conds: Sequence[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(conds) if conds else sql.SQL("true")


def cell_keys(t: TileAddress, margin: float = BUFFER / EXTENT) -> list[int] | None:
    """The numbers of the z16 cells that the tile, widened by `margin`, touches; None when
    there are more than MAX_CELL_KEYS of them."""
    scale = 2.0 ** (AGGREGATE_LEVEL - t.z)
    last = 2**AGGREGATE_LEVEL - 1
    xs = range(
        max(0, math.floor((t.x - margin) * scale)),
        min(last, math.floor((t.x + 1 + margin) * scale)) + 1,
    )
    ys = range(
        max(0, math.floor((t.y - margin) * scale)),
        min(last, math.floor((t.y + 1 + margin) * scale)) + 1,
    )
    if len(xs) * len(ys) > MAX_CELL_KEYS:
        return None
    return [cy * 2**AGGREGATE_LEVEL + cx for cy in ys for cx in xs]


def _newest_ids(layer: Layer, t: TileAddress, filters: Filters, cap: int) -> sql.Composable | None:
    """For an unfiltered raw tile (zoom 14 or 15) of a view over a table indexed by cell: the
    subquery of the (id, created_at) of the tile's newest `cap` features, from
    ix_appeals_tiles_cell alone (a central z14 tile over 3 million appeals: 0.7 s instead of 3 s)."""
    base = BASE_TABLES.get(layer.table)
    # From zoom 16 a tile lies within a few cells, most of whose points are not in it, and
    # holds few enough points that reading their rows through the GiST index is faster.
    keys = cell_keys(t) if t.z < AGGREGATE_LEVEL else None
    if base is None or keys is None or filters.datetime is not None or filters.properties:
        return None
    return sql.SQL(
        "SELECT a.{id}, a.{part} FROM {table} AS a WHERE {key} = ANY({keys}::bigint[])"
        " AND a.geom_3857 && {env} ORDER BY a.{id} + 0 DESC LIMIT {cap}"
    ).format(
        id=sql.Identifier(layer.id_column),
        part=sql.Identifier(PARTITION_KEY),
        table=sql.Identifier(base[0]),
        key=sql.SQL(CELL_KEY),
        keys=sql.Literal(keys),
        env=_envelope(t, BUFFER / EXTENT),
        cap=sql.Literal(cap),
    )


def _raw_tile(
    layer: Layer,
    t: TileAddress,
    conds: list[sql.Composable],
    role: str | None,
    cap: int,
    filters: Filters,
    councils: tuple[int, ...] | None = None,
) -> sql.Composable:
    props = [p for p in tile_properties(layer, role) if p != layer.id_column]
    columns = [sql.SQL("{} AS id").format(_col(layer.id_column))]
    columns += [
        sql.SQL("{} AS {}").format(property_sql(layer, p, role, councils), sql.Identifier(p))
        for p in props
    ]
    id_ = _col(layer.id_column)
    newest = _newest_ids(layer, t, filters, cap)
    if newest is not None:  # the ids of the newest `cap` in the tile, found index-only
        # With the partition key each row is looked up in its own month (0022), not in all.
        rows = sql.SQL("({id}, {part}) IN ({newest}) AND {where}").format(
            id=id_, part=_col(PARTITION_KEY), newest=newest, where=_where(conds)
        )
    else:
        # The id + 0: the newest first, without tempting the planner to walk the primary
        # key backwards through the whole table in search of the few rows in the tile.
        rows = sql.SQL("{inside} AND {where} ORDER BY {id} + 0 DESC LIMIT {cap}").format(
            inside=_in_envelope(layer, _envelope(t, BUFFER / EXTENT)),
            where=_where(conds),
            id=id_,
            cap=sql.Literal(cap),
        )
    return sql.SQL(
        "SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') FROM ("
        "SELECT {columns}, ST_AsMVTGeom({geom}, {env}, {extent}, {buffer}, true) AS geom"
        " FROM {table} AS t WHERE {rows}) AS q WHERE q.geom IS NOT NULL"
    ).format(
        name=sql.Literal(layer.id),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        columns=sql.SQL(", ").join(columns),
        geom=_geom_3857(layer),
        env=_envelope(t),
        table=sql.Identifier(layer.table),
        rows=rows,
    )


def _cell_ranges(t: TileAddress) -> tuple[int, float, int, int, int]:
    """(cells per world side, cell size in metres, first cell x, first cell y, cells per
    side) of a cluster tile: its cells are the tiles of zoom z + CLUSTER_CELL_LEVEL inside it,
    and a ring of its neighbours' cells, whose clusters lying within the buffer are drawn too
    (so a cluster's symbol is not cut at the tile's edge; it keeps its id in both tiles)."""
    level = t.z + CLUSTER_CELL_LEVEL
    n = 2**level
    return n, 2 * WORLD / n, t.x * CLUSTER_CELLS - 1, t.y * CLUSTER_CELLS - 1, CLUSTER_CELLS + 2


def _cluster_select(layer: Layer, t: TileAddress, cells: sql.Composable) -> sql.Composable:
    """The tile of clusters from `cells` (cx, cy, n, sx, sy, one count per status)."""
    statuses = [
        sql.SQL("{} AS {}").format(sql.Identifier(s), sql.Identifier(s)) for s in APPEAL_STATUSES
    ]
    return sql.SQL(
        "SELECT ST_AsMVT(q, {name}, {extent}, 'geom', 'id') FROM ("
        "SELECT c.id, c.n AS count, {statuses},"
        " ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(c.sx / c.n, c.sy / c.n), 3857), {env},"
        " {extent}, {buffer}, true) AS geom FROM ({cells}) AS c WHERE c.n > 0) AS q"
    ).format(
        name=sql.Literal(layer.id),
        extent=sql.Literal(EXTENT),
        # The whole ring of neighbouring cells: cluster symbols grow up to a cell (32 px).
        buffer=sql.Literal(EXTENT // CLUSTER_CELLS),
        statuses=sql.SQL(", ").join(statuses),
        env=_envelope(t),
        cells=cells,
    )


def _status_counts(expr: str) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.SQL(expr).format(value=sql.Literal(s), name=sql.Identifier(s)) for s in APPEAL_STATUSES
    )


def _points_layer(layer: Layer, filters: Filters) -> Layer:
    """The layer to count the points of: its view's own table when the filters allow."""
    base = BASE_TABLES.get(layer.table)
    if base is None:
        return layer
    table, columns = base
    for name, values in filters.properties:
        queryable = layer.queryable(name)
        if queryable is None or queryable.column not in columns:
            return layer
        if queryable.type == "integer" and not all(isinstance(v, int) for v in values):
            return layer  # a value given by name is looked up in the view
    if layer.datetime_column and layer.datetime_column not in columns:
        return layer
    return replace(layer, table=table)


def _clusters_from_points(
    layer: Layer, t: TileAddress, conds: list[sql.Composable]
) -> sql.Composable:
    n, size, x0, y0, count = _cell_ranges(t)
    cx = sql.SQL("floor((ST_X(t.geom_3857) + {w}) / {size})::bigint").format(
        w=sql.Literal(WORLD), size=sql.Literal(size)
    )
    cy = sql.SQL("floor(({w} - ST_Y(t.geom_3857)) / {size})::bigint").format(
        w=sql.Literal(WORLD), size=sql.Literal(size)
    )
    cells = sql.SQL(
        "SELECT * FROM (SELECT p.cx * {n} + p.cy AS id, p.cx, p.cy, count(*) AS n,"
        " sum(p.px) AS sx, sum(p.py) AS sy, {statuses} FROM (SELECT {cx} AS cx, {cy} AS cy,"
        " ST_X(t.geom_3857) AS px, ST_Y(t.geom_3857) AS py, t.status FROM {table} AS t"
        " WHERE {inside} AND {where}) AS p GROUP BY p.cx, p.cy OFFSET 0) AS g"
        " WHERE g.cx BETWEEN {x0} AND {x1} AND g.cy BETWEEN {y0} AND {y1}"
    ).format(
        n=sql.Literal(n),
        statuses=_status_counts("count(*) FILTER (WHERE p.status = {value}) AS {name}"),
        cx=cx,
        cy=cy,
        table=sql.Identifier(layer.table),
        inside=_in_envelope(layer, _envelope(t, 1 / CLUSTER_CELLS)),
        where=_where(conds),
        x0=sql.Literal(x0),
        x1=sql.Literal(x0 + count - 1),
        y0=sql.Literal(y0),
        y1=sql.Literal(y0 + count - 1),
    )
    return _cluster_select(layer, t, cells)


def _council_refs(column: sql.Composable, values: Sequence[object]) -> sql.Composed:
    """The cell's council is one of `values` not yet looked up (tile_sql_text: slugs and
    KATOTTH codes, matched as layers.features matches them on the points)."""
    refs = [str(v) for v in values]
    return sql.SQL(
        "{} IN (SELECT k.id FROM councils k WHERE lower(k.slug) = ANY({})"
        " OR upper(k.code) = ANY({}) AND k.code <> '')"
    ).format(column, sql.Literal([r.lower() for r in refs]), sql.Literal([r.upper() for r in refs]))


def _clusters_from_aggregate(layer: Layer, t: TileAddress, filters: Filters) -> sql.Composable:
    n, _size, x0, y0, count = _cell_ranges(t)
    shift = AGGREGATE_LEVEL - (t.z + CLUSTER_CELL_LEVEL)  # fine cells per cluster cell: 2^shift
    conds = [
        sql.SQL("a.cx BETWEEN {} AND {}").format(
            sql.Literal(x0 * 2**shift), sql.Literal((x0 + count) * 2**shift - 1)
        ),
        sql.SQL("a.cy BETWEEN {} AND {}").format(
            sql.Literal(y0 * 2**shift), sql.Literal((y0 + count) * 2**shift - 1)
        ),
    ]
    for name, values in filters.properties:
        column = sql.SQL("a.{}").format(sql.Identifier(AGGREGATE_FILTERS[name]))
        if name == "council" and not all(isinstance(v, int) for v in values):
            conds.append(_council_refs(column, values))
            continue
        conds.append(
            sql.SQL("{} = ANY({})").format(column, sql.Literal(list(values)))
            if len(values) > 1
            else sql.SQL("{} = {}").format(column, sql.Literal(values[0]))
        )
    cells = sql.SQL(
        "SELECT (a.cx >> {shift})::bigint * {n} + (a.cy >> {shift}) AS id, sum(a.n)::bigint AS n,"
        " sum(a.sx) AS sx, sum(a.sy) AS sy, {statuses} FROM {table} AS a WHERE {where}"
        " GROUP BY a.cx >> {shift}, a.cy >> {shift}"
    ).format(
        shift=sql.Literal(shift),
        n=sql.Literal(n),
        statuses=_status_counts("(sum(a.n) FILTER (WHERE a.status = {value}))::bigint AS {name}"),
        table=sql.Identifier(*AGGREGATE_TABLE),
        where=_where(conds),
    )
    return _cluster_select(layer, t, cells)


CATEGORY_CELLS_TABLE = ("tiles", "appeal_category_cells")
CATEGORY_CELL_LEVEL = 13  # appeal_category_cells' cells are tiles at this zoom
CATEGORY_CELLS_FILTERS = {"category": "category_id", "council": "council_id"}


def uses_category_cells(layer: Layer, t: TileAddress, filters: Filters) -> bool:
    """Whether a cluster tile of the layer with these filters sums the whole days of its
    period from tiles.appeal_category_cells (migration 0022): a tile of zoom ≤ 10 (its
    cluster cells are cells of the table, or groups of them) filtered on categories by id,
    and at most a period and councils by id besides."""
    names = {name for name, _values in filters.properties}
    return (
        layer.id == "appeals"
        and layer.table == "appeal_features"
        and t.z + CLUSTER_CELL_LEVEL <= CATEGORY_CELL_LEVEL
        and "category" in names
        and names <= CATEGORY_CELLS_FILTERS.keys()
        and all(isinstance(v, int) for _name, values in filters.properties for v in values)
    )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _whole_days(
    period: tuple[dt.datetime | None, dt.datetime | None] | None,
) -> tuple[dt.date | None, dt.date | None] | None:
    """(first, last) of the whole UTC days inside the closed period — the appeals of the days
    in [first, last) are summed from the cells, the rest of the period counted from the
    points (None: open at that end) — or None when the period holds no whole day."""
    if period is None:
        return None, None
    start, end = period
    try:
        first = None
        if start is not None:
            first = start.astimezone(dt.UTC).date()
            if start > _midnight(first):
                first += dt.timedelta(days=1)
        # A day is whole when its last microsecond is at or before `end`.
        last = (end + dt.timedelta(microseconds=1)).astimezone(dt.UTC).date() if end else None
    except OverflowError:  # the calendar's ends: the points
        return None
    if first is not None and last is not None and first >= last:
        return None
    return first, last


def _clusters_from_category_cells(
    layer: Layer, t: TileAddress, filters: Filters
) -> tuple[sql.Composable, dict]:
    """Clusters of categories (and a period, councils): the whole days of the period summed
    from tiles.appeal_category_cells, the partial days at its edges counted from the points,
    each point in the z13 cell the table puts it in, shifted to the cluster cell."""
    n, _size, x0, y0, count = _cell_ranges(t)
    shift = CATEGORY_CELL_LEVEL - (t.z + CLUSTER_CELL_LEVEL)
    days = _whole_days(filters.datetime)
    points = _points_layer(layer, filters)
    if days is None:  # no whole day: the points alone
        conds, args = filter_conditions(points, filters)
        return _clusters_from_points(points, t, conds), args
    first, last = days
    conds = [
        sql.SQL("a.cx BETWEEN {} AND {}").format(
            sql.Literal(x0 * 2**shift), sql.Literal((x0 + count) * 2**shift - 1)
        ),
        sql.SQL("a.cy BETWEEN {} AND {}").format(
            sql.Literal(y0 * 2**shift), sql.Literal((y0 + count) * 2**shift - 1)
        ),
    ]
    if first is not None:
        conds.append(sql.SQL("a.day >= {}").format(sql.Literal(first)))
    if last is not None:
        conds.append(sql.SQL("a.day < {}").format(sql.Literal(last)))
    for name, values in filters.properties:
        column = sql.SQL("a.{}").format(sql.Identifier(CATEGORY_CELLS_FILTERS[name]))
        conds.append(sql.SQL("{} = ANY({})").format(column, sql.Literal(list(values))))
    statuses = sql.SQL(", ").join(
        sql.SQL("a.{}").format(sql.Identifier(s)) for s in APPEAL_STATUSES
    )
    parts = [
        sql.SQL(
            "SELECT (a.cx >> {shift})::bigint AS cx, (a.cy >> {shift})::bigint AS cy, a.n,"
            " {statuses}, a.sx, a.sy FROM {table} AS a WHERE {where}"
        ).format(
            shift=sql.Literal(shift),
            statuses=statuses,
            table=sql.Identifier(*CATEGORY_CELLS_TABLE),
            where=_where(conds),
        )
    ]
    # The partial days at the edges: [start, first) and [last, end].
    start, end = filters.datetime or (None, None)
    edges = []
    if start is not None and first is not None and start < _midnight(first):
        edges.append((start, _midnight(first) - dt.timedelta(microseconds=1)))
    if end is not None and last is not None and end >= _midnight(last):
        edges.append((_midnight(last), end))
    cell = 2 * WORLD / 2**CATEGORY_CELL_LEVEL
    for edge in edges:
        conds_p, args_p = filter_conditions(points, replace(filters, datetime=edge))
        parts.append(
            sql.SQL(
                "SELECT floor((ST_X(t.geom_3857) + {w}) / {cell})::bigint >> {shift},"
                " floor(({w} - ST_Y(t.geom_3857)) / {cell})::bigint >> {shift}, 1, {statuses},"
                " ST_X(t.geom_3857), ST_Y(t.geom_3857) FROM {table} AS t"
                " WHERE {inside} AND {where}"
            ).format(
                w=sql.Literal(WORLD),
                cell=sql.Literal(cell),
                shift=sql.Literal(shift),
                statuses=_status_counts("(t.status = {value})::integer"),
                table=sql.Identifier(points.table),
                inside=_in_envelope(points, _envelope(t, 1 / CLUSTER_CELLS)),
                # Both edges name the same arguments: each with its own values inlined.
                where=sql.SQL(render(_where(conds_p), args_p)),
            )
        )
    cells = sql.SQL(
        "SELECT g.cx * {n} + g.cy AS id, sum(g.n) AS n, sum(g.sx) AS sx, sum(g.sy) AS sy,"
        " {statuses} FROM ({parts}) AS g"
        " WHERE g.cx BETWEEN {x0} AND {x1} AND g.cy BETWEEN {y0} AND {y1}"
        " GROUP BY g.cx, g.cy"
    ).format(
        n=sql.Literal(n),
        statuses=_status_counts("sum(g.{name}) AS {name}"),
        parts=sql.SQL(" UNION ALL ").join(parts),
        x0=sql.Literal(x0),
        x1=sql.Literal(x0 + count - 1),
        y0=sql.Literal(y0),
        y1=sql.Literal(y0 + count - 1),
    )
    return _cluster_select(layer, t, cells), {}


def uses_aggregate(layer: Layer, filters: Filters) -> bool:
    """Whether a cluster tile of the layer with these filters is summed from appeal_cells."""
    return (
        layer.id == "appeals"
        and layer.table == "appeal_features"
        and filters.datetime is None
        and all(
            name in AGGREGATE_FILTERS
            and (name != "district" or all(isinstance(v, int) for v in values))
            for name, values in filters.properties
        )  # a district given by name is looked up in the view: from the points (a council
        # by slug or code, in tile_sql_text, is looked up in the cells' query)
    )


def tile_query(
    layer: Layer,
    t: TileAddress,
    filters: Filters,
    role: str | None = None,
    *,
    max_features: int = DEFAULT_MAX_FEATURES,
    councils: tuple[int, ...] | None = None,
) -> tuple[sql.Composable, dict]:
    """The statement building one tile, and its arguments (see tile_sql_text for the
    literal text). `councils`: a council-bound viewer's (layers.features.viewer_councils;
    None: every council) — a `tenant_rows` layer's tile holds their rows only."""
    if is_cluster_tile(layer, t.z):
        if uses_aggregate(layer, filters):
            query = _clusters_from_aggregate(layer, t, filters)
            args: dict = {}
        elif uses_category_cells(layer, t, filters):
            query, args = _clusters_from_category_cells(layer, t, filters)
        else:
            points = _points_layer(layer, filters)
            conds, args = filter_conditions(points, filters)
            query = _clusters_from_points(points, t, conds)
    else:
        conds, args = filter_conditions(layer, filters, councils)
        query = _raw_tile(layer, t, conds, role, max_features, filters, councils)
    return query, args


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def render(query: sql.Composable, args: Mapping[str, object], context=None) -> str:
    """The statement as text with every argument inlined as a literal."""
    text = query.as_string(context)
    return _PLACEHOLDER.sub(
        lambda m: (
            sql.Literal(args[m.group(1)]).as_string(context) if m.group(1) in args else m.group(0)
        ),
        text,
    )


def tile_sql_text(
    layer: Layer | str,
    z: int,
    x: int,
    y: int,
    filters: Filters | Mapping[str, str] | None = None,
    role: str | None = None,
    *,
    max_features: int = DEFAULT_MAX_FEATURES,
) -> str:
    """The exact SQL of a tile, literals inlined: what the server runs for
    `/tiles/{layer}/{z}/{x}/{y}.mvt?{filters}` (for psql, EXPLAIN or pgbench). `layer` is a
    Layer or a core layer's id; `filters` parsed Filters or the query parameters as a dict."""
    if isinstance(layer, str):
        layer = CORE_LAYERS[layer]
    if filters is None:
        filters = Filters()
    elif not isinstance(filters, Filters):
        given = check_parameters(filters.items(), filter_parameters(layer))
        filters = parse_filters(layer, given)
    query, args = tile_query(
        layer, parse_tile_address(z, x, y), filters, role, max_features=max_features
    )
    return render(query, args)


async def fetch_tile(
    conn,
    layer: Layer,
    t: TileAddress,
    filters: Filters,
    role: str | None = None,
    *,
    max_features: int = DEFAULT_MAX_FEATURES,
    councils: tuple[int, ...] | None = None,
) -> bytes:
    """One tile as Mapbox Vector Tile bytes (empty when nothing is in it), read over an async
    psycopg connection."""
    query, args = tile_query(layer, t, filters, role, max_features=max_features, councils=councils)
    # Without parameters psycopg sends the text as one simple query: the settings hold for
    # this tile's SELECT only.
    cur = await conn.execute(TILE_SETTINGS + render(query, args, conn))
    while cur.nextset():
        pass
    row = await cur.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""

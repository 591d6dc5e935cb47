"""Reading a layer's features as GeoJSON, with the parameters of OGC API – Features.

PostgreSQL builds every Feature as JSON text (`ST_AsGeoJSON` inside `json_build_object`), and
the page is spliced together from those texts: no geometry is parsed or re-serialised in
Python. Pages are cut by keyset on the layer's id column (`id > after ORDER BY id LIMIT n`),
or for layers paged in time order (appeals) on (datetime, id), which stays fast however deep
a client pages, whatever period it asks for, and never skips or repeats a feature while
others are added.

Coordinates are lon/lat in EPSG:4326 (OGC's CRS84 axis order), rounded to `PRECISION`
decimal places (1e-6 degree is about 0.1 m in Kyiv).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import psycopg
from psycopg import AsyncConnection, sql

from gis import councils as councils_
from gis import values as request_values
from gis.values import parse_bbox, parse_datetime
from layers.errors import FeatureNotFound, InvalidParameter
from layers.registry import Layer, Queryable

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
PRECISION = 6
PAGING_PARAMETERS = frozenset({"bbox", "limit", "after", "before", "f"})
FORMATS = frozenset({"json", "geojson"})
# A looked-up value (Queryable.lookup): a council's slug or code, at most this long, so many.
MAX_LOOKUP_LENGTH = councils_.MAX_REF_LENGTH
MAX_LOOKUP_VALUES = councils_.MAX_REFS
# Counts at least this large are kept until the layer changes (counting three million
# appeals takes a while, and every page of a client's walk through them repeats the count).
CACHED_COUNT_FROM = 10_000
# The longest a count may take; past it the page goes without numberMatched (OGC API –
# Features makes it optional) rather than keep a client and a connection waiting.
COUNT_BUDGET_MS = 1_500
# Kept in the CountCache for a count that ran past the budget: the next pages of the same
# generation go without numberMatched at once instead of each waiting out the budget again
# (10 million appeals: every page took 1.7 s, 1.5 s of it the abandoned count).
UNCOUNTED = -1

Interval = request_values.Interval
FilterValue = int | str
# A place in a layer's page order: (its datetime, its id) for layers paged in time order,
# (None, its id) for the others.
Cursor = tuple[dt.datetime | None, int]


@dataclass(frozen=True)
class Filters:
    """The filters a layer's items and tiles share: a period and property values."""

    datetime: Interval | None = None  # closed interval; None at an end means open
    # (queryable name, accepted values), in the layer's declared order
    properties: tuple[tuple[str, tuple[FilterValue, ...]], ...] = ()

    def key(self) -> str:
        """A canonical text of the filters, for cache keys."""
        period = "" if self.datetime is None else "/".join(
            "" if t is None else t.isoformat() for t in self.datetime
        )  # fmt: skip
        props = ";".join(f"{n}={','.join(map(str, sorted(map(str, v))))}"
                         for n, v in self.properties)  # fmt: skip
        return f"{period}|{props}"


@dataclass(frozen=True)
class ItemsQuery:
    """What a client asked of `/collections/{id}/items`, validated."""

    limit: int = DEFAULT_LIMIT
    bbox: tuple[float, float, float, float] | None = None  # lon/lat: minx, miny, maxx, maxy
    filters: Filters = field(default_factory=Filters)
    after: Cursor | None = None  # keyset: only features after this one in page order
    before: Cursor | None = None  # keyset backwards (the `prev` link): the last ones before


@dataclass(frozen=True)
class ItemsPage:
    features: list[str]  # each a GeoJSON Feature as JSON text
    number_matched: int | None  # None: counting would have taken too long
    next_after: str | None  # the `after` of the next page, None on the last page
    prev_before: str | None  # the `before` of the previous page, None on the first page


class CountCache:
    """numberMatched of large results, until the layer changes (keyed by its generation)."""

    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[tuple, int] = OrderedDict()
        self._size = size

    def get(self, key: tuple) -> int | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: tuple, value: int) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


# --- parameters -------------------------------------------------------------------------


def check_parameters(params: Iterable[tuple[str, str]], allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters as a dict; an unknown or repeated one is an InvalidParameter
    (OGC API – Features asks for a 400 rather than silently ignoring it)."""
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise InvalidParameter("unknown_parameter", name, allowed=", ".join(sorted(allowed)))
        if name in seen:
            raise InvalidParameter("repeated_parameter", name)
        seen[name] = value
    if "f" in seen and seen["f"] not in FORMATS:
        raise InvalidParameter("invalid_format", "f", value=seen["f"])
    return seen


def parse_limit(value: str | None) -> int:
    """`limit`: an integer from 1 to MAX_LIMIT; DEFAULT_LIMIT when absent."""
    return request_values.parse_limit(value, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def parse_cursor(value: str | None, name: str, layer: Layer) -> Cursor | None:
    """`after`/`before` as the `next`/`prev` links give them: the id, or for layers paged in
    time order `<UTC date-time>~<id>` (see format_cursor)."""
    if value is None:
        return None
    if layer.page_order == "datetime":
        return request_values.parse_time_cursor(value, name)
    return None, request_values.parse_id_cursor(value, name)


def format_cursor(layer: Layer, at: dt.datetime | None, fid: int) -> str:
    if layer.page_order == "datetime" and at is not None:
        return request_values.format_time_cursor(at, fid)
    return str(fid)


def filter_parameters(layer: Layer) -> frozenset[str]:
    """The filter parameters a layer accepts: `datetime` and its queryables."""
    return frozenset({"datetime", *(q.name for q in layer.queryables)})


def parse_filters(layer: Layer, given: Mapping[str, str]) -> Filters:
    """The layer's filters from already checked parameters (see check_parameters): a
    queryable's value is one value or several separated by commas, each of its type."""
    period = parse_datetime(given.get("datetime"))
    if period is not None and layer.datetime_column is None:
        raise InvalidParameter("no_temporal_property", "datetime", collection=layer.id)
    properties = []
    for queryable in layer.queryables:
        text = given.get(queryable.name)
        if text is None:
            continue
        values: list[FilterValue] = []
        for part in text.split(","):
            part = part.strip()
            if queryable.type == "integer":
                try:
                    number = int(part)
                    if not request_values.INT32[0] <= number <= request_values.INT32[1]:
                        raise InvalidParameter("invalid_filter_integer", queryable.name, value=part)
                    values.append(number)
                except ValueError:
                    if queryable.name_column is None or not part:
                        raise InvalidParameter(
                            "invalid_filter_integer", queryable.name, value=part
                        ) from None
                    values.append(part)  # a name
            elif queryable.enum is not None and part not in queryable.enum:
                raise InvalidParameter(
                    "invalid_filter_value", queryable.name, value=part,
                    allowed=", ".join(queryable.enum),
                )  # fmt: skip
            elif not part or (queryable.lookup and len(part) > MAX_LOOKUP_LENGTH):
                raise InvalidParameter("invalid_filter_value", queryable.name, value=text[:64],
                                       allowed="…")  # fmt: skip
            else:
                values.append(part.lower() if queryable.lookup else part)
        if queryable.lookup and len(values) > MAX_LOOKUP_VALUES:
            raise InvalidParameter("invalid_filter_value", queryable.name, value=text[:64],
                                   allowed="…")  # fmt: skip
        properties.append((queryable.name, tuple(dict.fromkeys(values))))
    return Filters(datetime=period, properties=tuple(properties))


def needs_lookup(layer: Layer, filters: Filters) -> bool:
    """Whether the filters name a value resolve_filters must look up (a council by slug)."""
    return any(
        (q := layer.queryable(name)) is not None and q.lookup is not None
        and any(isinstance(v, str) for v in values)
        for name, values in filters.properties
    )  # fmt: skip


async def resolve_filters(conn: AsyncConnection, layer: Layer, filters: Filters) -> Filters:
    """The filters with each looked-up value as the id it stands for: a council's slug or
    KATOTTH code → its id (an unknown council: NotFound `council_not_found`, as the public
    feed's `council`). Councils that are every council of the installation filter nothing
    and are dropped, so a one-council install's `?council=` is the unfiltered layer (its
    clusters then come from tiles.appeal_cells, and its tiles share the unfiltered cache)."""
    if not needs_lookup(layer, filters):
        return filters
    properties = []
    for name, values in filters.properties:
        queryable = layer.queryable(name)
        if queryable is None or queryable.lookup != "council":
            properties.append((name, values))
            continue
        found = await councils_.resolve_many(conn, ",".join(str(v) for v in values))
        ids = tuple(sorted({c.id for c in found}))
        row = await (await conn.execute("SELECT count(*) FROM councils")).fetchone()
        if row is None or len(ids) < row[0]:
            properties.append((name, ids))
    return replace(filters, properties=tuple(properties))


def parse_items_query(params: Iterable[tuple[str, str]], layer: Layer) -> ItemsQuery:
    """Validate the query string of an items request; every problem is an InvalidParameter."""
    given = check_parameters(params, PAGING_PARAMETERS | filter_parameters(layer))
    query = ItemsQuery(
        limit=parse_limit(given.get("limit")),
        bbox=parse_bbox(given.get("bbox")),
        filters=parse_filters(layer, given),
        after=parse_cursor(given.get("after"), "after", layer),
        before=parse_cursor(given.get("before"), "before", layer),
    )
    if query.after is not None and query.before is not None:
        raise InvalidParameter("after_and_before", "before")
    return query


# --- SQL ----------------------------------------------------------------------------------


def _col(name: str) -> sql.Composable:
    return sql.SQL("t.{}").format(sql.Identifier(name))


# The named argument holding a council-bound viewer's councils (issue 17).
VIEWER_COUNCILS = "viewer_councils"


def viewer_councils(principal: object) -> tuple[int, ...] | None:
    """The councils whose rows' role-only properties (and, on a `tenant_rows` layer, rows)
    the caller sees: None for every council (oblast staff, a one-council install); else the
    caller's own councils — none for a principal built without them (the default denies)."""
    if getattr(principal, "every_council", False):
        return None
    return tuple(int(i) for i in (getattr(principal, "council_ids", ()) or ()))


def _own(layer: Layer) -> sql.Composable:
    """True for a row of the viewer's councils (the argument VIEWER_COUNCILS)."""
    return sql.SQL("coalesce({} = ANY(%({})s), false)").format(
        sql.SQL(layer.tenant or "NULL"), sql.SQL(VIEWER_COUNCILS)
    )


def viewer_args(councils: tuple[int, ...] | None) -> dict[str, object]:
    return {} if councils is None else {VIEWER_COUNCILS: list(councils)}


def property_sql(
    layer: Layer, name: str, role: str | None, councils: tuple[int, ...] | None = None
) -> sql.Composable:
    """A property's expression for this role: null where it is a private person's data
    (Layer.private_when) and the role is not one of Layer.private_roles. For a viewer bound
    to `councils` (None: every council), a role-only property of another council's row is
    null too, as is a private person's data there (issue 17)."""
    bound = councils is not None and layer.tenant is not None
    flag = layer.private_when.get(name)
    if flag is None or role in layer.private_roles:
        expr: sql.Composable = _col(name)
        if bound and flag is not None:
            expr = sql.SQL("CASE WHEN {} AND NOT {} THEN NULL ELSE {} END").format(
                _col(flag), _own(layer), _col(name)
            )
    else:
        expr = sql.SQL("CASE WHEN {} THEN NULL ELSE {} END").format(_col(flag), _col(name))
    if bound and name not in layer.properties:
        expr = sql.SQL("CASE WHEN {} THEN {} END").format(_own(layer), expr)
    return expr


def _feature_json(
    layer: Layer, role: str | None = None, councils: tuple[int, ...] | None = None
) -> sql.Composable:
    """The expression of one row as a GeoJSON Feature, as JSON text, with the properties
    this role sees (of its councils' rows, for a council-bound viewer)."""
    if layer.properties_column:
        props: sql.Composable = _col(layer.properties_column)
    else:
        pairs = [
            sql.SQL("{}, {}").format(sql.Literal(p), property_sql(layer, p, role, councils))
            for p in layer.properties_for(role)
        ]
        props = sql.SQL("json_build_object({})").format(sql.SQL(", ").join(pairs))
    return sql.SQL(
        "json_build_object('type', 'Feature', 'id', {id}, "
        "'geometry', ST_AsGeoJSON({geom}, {precision})::json, 'properties', {props})::text"
    ).format(
        id=_col(layer.id_column),
        geom=_col(layer.geometry_column),
        precision=sql.Literal(PRECISION),
        props=props,
    )


def _base_conditions(layer: Layer) -> list[sql.Composable]:
    """What every query of the layer filters on, whatever the client asked."""
    conds: list[sql.Composable] = []
    if layer.current_only:
        conds.append(sql.SQL("t.valid_to IS NULL"))
    if layer.retirable:
        conds.append(sql.SQL("t.retired_at IS NULL"))
    if layer.layer_name is not None:
        conds.append(sql.SQL("t.layer_name = {}").format(sql.Literal(layer.layer_name)))
    return conds


def tile_scope(layer: Layer, councils: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The councils a `tenant_rows` layer's rows are limited to for this viewer (None: not
    limited) — what a cache of its rows or counts must key on."""
    return councils if layer.tenant_rows and layer.tenant is not None else None


def filter_conditions(
    layer: Layer, filters: Filters, councils: tuple[int, ...] | None = None
) -> tuple[list[sql.Composable], dict]:
    """The WHERE conditions (on the layer's table as `t`) of the layer's own restrictions and
    the client's filters, with their named arguments. Shared by items and tiles. A viewer
    bound to `councils` sees their rows' role-only properties (the argument is passed) and,
    on a `tenant_rows` layer, only their rows."""
    conds = _base_conditions(layer)
    args: dict[str, object] = dict(viewer_args(councils) if layer.tenant else {})
    if tile_scope(layer, councils) is not None:
        conds.append(_own(layer))
    if filters.datetime is not None:
        if layer.datetime_column is None:
            raise InvalidParameter("no_temporal_property", "datetime", collection=layer.id)
        start, end = filters.datetime
        if start is not None:
            conds.append(sql.SQL("{} >= %(dt_start)s").format(_col(layer.datetime_column)))
            args["dt_start"] = start
        if end is not None:
            conds.append(sql.SQL("{} <= %(dt_end)s").format(_col(layer.datetime_column)))
            args["dt_end"] = end
    for name, values in filters.properties:
        queryable = layer.queryable(name)
        if queryable is None:  # parse_filters only lets the layer's queryables through
            raise InvalidParameter("unknown_parameter", name, allowed="")
        by_column: dict[str, Sequence[int | str]]
        if queryable.lookup == "council":
            conds.append(_council_condition(queryable, name, values, args))
            continue
        if queryable.type == "string":
            by_column = {queryable.column: list(values)}
        else:  # ids, and names where the queryable takes them (parse_filters checked)
            by_column = {}
            ids = [v for v in values if isinstance(v, int)]
            names = [v for v in values if isinstance(v, str)]
            if ids:
                by_column[queryable.column] = ids
            if names and queryable.name_column:
                by_column[queryable.name_column] = names
        alternatives = []
        for i, (column, given) in enumerate(by_column.items()):
            arg = f"f_{name}_{i}"
            alternatives.append(sql.SQL("{} = ANY(%({})s)").format(_col(column), sql.SQL(arg)))
            args[arg] = given
        conds.append(
            alternatives[0]
            if len(alternatives) == 1
            else sql.SQL("({})").format(sql.SQL(" OR ").join(alternatives))
        )
    return conds, args


def _council_condition(
    queryable: Queryable, name: str, values: Sequence[FilterValue], args: dict
) -> sql.Composable:
    """The row's council is one of `values`: ids (resolve_filters), or slugs and codes not
    yet looked up (tile_sql_text) matched in `councils` as gis.councils.resolve does."""
    ids = [v for v in values if isinstance(v, int)]
    refs = [v for v in values if isinstance(v, str)]
    column = _col(queryable.column)
    if not refs:
        args[f"f_{name}"] = ids
        return sql.SQL("{} = ANY(%({})s)").format(column, sql.SQL(f"f_{name}"))
    args[f"f_{name}"] = [r.lower() for r in refs]
    args[f"f_{name}_codes"] = [r.upper() for r in refs]
    return sql.SQL(
        "{} IN (SELECT k.id FROM councils k WHERE lower(k.slug) = ANY(%({a})s)"
        " OR upper(k.code) = ANY(%({b})s) AND k.code <> '')"
    ).format(column, a=sql.SQL(f"f_{name}"), b=sql.SQL(f"f_{name}_codes"))


def _query_conditions(
    layer: Layer, q: ItemsQuery, councils: tuple[int, ...] | None = None
) -> tuple[list[sql.Composable], dict]:
    conds, args = filter_conditions(layer, q.filters, councils)
    if q.bbox is not None:
        conds.append(
            sql.SQL(
                "ST_Intersects({}, ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326))"
            ).format(_col(layer.geometry_column))
        )
        args.update(zip(("minx", "miny", "maxx", "maxy"), q.bbox, strict=True))
    return conds, args


def _where(conds: Sequence[sql.Composable]) -> sql.Composable:
    if not conds:
        return sql.SQL("")
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds)


async def fetch_items(
    conn: AsyncConnection,
    layer: Layer,
    q: ItemsQuery,
    *,
    role: str | None = None,
    counts: CountCache | None = None,
    generation: object = None,
    councils: tuple[int, ...] | None = None,
) -> ItemsPage:
    """One page of the layer's features matching the query, in the layer's page order;
    `counts` keeps large counts for as long as the layer's `generation` stays the same.
    `councils`: a council-bound viewer's (viewer_councils; None: every council)."""
    conds, args = _query_conditions(layer, q, councils)
    table = sql.Identifier(layer.table)
    page_conds = list(conds)
    backwards = q.before is not None
    # Page order: the id, or (datetime, id) for layers paged in time order, so that a period
    # is read along the datetime index instead of walking every older id first.
    time_column = layer.datetime_column if layer.page_order == "datetime" else None
    in_time = time_column is not None
    keys = [_col(time_column)] if time_column is not None else []
    keys.append(_col(layer.id_column))
    key = sql.SQL("({})").format(sql.SQL(", ").join(keys)) if in_time else keys[0]
    for bound, op, name in ((q.after, ">", "after"), (q.before, "<", "before")):
        if bound is None:
            continue
        at, fid = bound
        if in_time:
            page_conds.append(sql.SQL("{key} {op} (%({n}_at)s, %({n}_id)s)").format(
                key=key, op=sql.SQL(op), n=sql.SQL(name)))  # fmt: skip
            # the same bound on the datetime alone, which its index can use
            page_conds.append(sql.SQL("{} {}= %({}_at)s").format(
                keys[0], sql.SQL(op), sql.SQL(name)))  # fmt: skip
            args[f"{name}_at"], args[f"{name}_id"] = at, fid
        else:
            page_conds.append(sql.SQL("{} {} %({}_id)s").format(key, sql.SQL(op), sql.SQL(name)))
            args[f"{name}_id"] = fid
    direction = sql.SQL(" DESC" if backwards else " ASC")
    page = sql.SQL(
        "SELECT {feature}, {id}, {at} FROM {table} AS t{where} ORDER BY {order} LIMIT {n}"
    ).format(
        feature=_feature_json(layer, role, councils),
        id=_col(layer.id_column),
        at=keys[0] if in_time else sql.SQL("NULL::timestamptz"),
        table=table,
        where=_where(page_conds),
        order=sql.SQL(", ").join(k + direction for k in keys),
        n=sql.Literal(q.limit + 1),
    )
    rows = await (await conn.execute(page, args)).fetchall()
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    if backwards:
        rows.reverse()
    count_key = (layer.id, generation, q.filters.key(), q.bbox, tile_scope(layer, councils))
    matched = counts.get(count_key) if counts is not None else None
    if matched is None:
        count_args = {k: v for k, v in args.items() if not k.startswith(("after_", "before_"))}
        count = sql.SQL("SELECT count(*) FROM {table} AS t{where}").format(
            table=table, where=_where(conds)
        )
        matched = await _count_within_budget(conn, count, count_args)
        if counts is not None and (matched is None or matched >= CACHED_COUNT_FROM):
            counts.put(count_key, UNCOUNTED if matched is None else matched)
    elif matched == UNCOUNTED:
        matched = None

    def cursor(row) -> str:
        return format_cursor(layer, row[2], row[1])

    if backwards:
        next_after = cursor(rows[-1]) if rows else None
        prev_before = cursor(rows[0]) if more else None
    else:
        next_after = cursor(rows[-1]) if more else None
        prev_before = cursor(rows[0]) if q.after is not None and rows else None
    return ItemsPage(
        features=[r[0] for r in rows],
        number_matched=matched,
        next_after=next_after,
        prev_before=prev_before,
    )


async def _count_within_budget(
    conn: AsyncConnection, query: sql.Composed, args: dict
) -> int | None:
    """The count, or None when it takes longer than COUNT_BUDGET_MS."""
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL statement_timeout = {COUNT_BUDGET_MS}")
            row = await (await conn.execute(query, args)).fetchone()
            assert row is not None  # an aggregate returns one row
            return row[0]
    except psycopg.errors.QueryCanceled:
        return None


async def fetch_feature(
    conn: AsyncConnection, layer: Layer, feature_id: str, *, role: str | None = None,
    councils: tuple[int, ...] | None = None,
) -> str:  # fmt: skip
    """One feature as GeoJSON text, or FeatureNotFound (also for an id that is not a number:
    every layer's id column is an integer; also for another council's row of a `tenant_rows`
    layer, for a viewer bound to `councils`)."""
    try:
        fid = request_values.parse_int(feature_id, "featureId", lo=0)
    except InvalidParameter:
        raise FeatureNotFound(layer.id, feature_id[:64]) from None
    conds, args = filter_conditions(layer, Filters(), councils)
    conds.append(sql.SQL("{} = %(fid)s").format(_col(layer.id_column)))
    query = sql.SQL("SELECT {feature} FROM {table} AS t{where}").format(
        feature=_feature_json(layer, role, councils),
        table=sql.Identifier(layer.table),
        where=_where(conds),
    )
    row = await (await conn.execute(query, {**args, "fid": fid})).fetchone()
    if row is None:
        raise FeatureNotFound(layer.id, feature_id)
    return row[0]


Extent = tuple[list[float] | None, list[str | None] | None]


class ExtentCache:
    """Layers' extents, kept while the layer is unchanged — or for `max_age` seconds even if
    it changed: the appeals layer changes every few seconds and its extent (a scan of every
    appeal) moves by a few metres a year, so a catalogue a few minutes old is true enough."""

    def __init__(self, max_age: float = 300.0) -> None:
        self._entries: dict[str, tuple[object, float, Extent]] = {}
        self.max_age = max_age

    def get(self, layer_id: str, generation: object) -> Extent | None:
        entry = self._entries.get(layer_id)
        if entry is None:
            return None
        seen_generation, at, extent = entry
        if seen_generation == generation or time.monotonic() - at < self.max_age:
            return extent
        return None

    def put(self, layer_id: str, generation: object, extent: Extent) -> None:
        self._entries[layer_id] = (generation, time.monotonic(), extent)


async def fetch_extents(conn: AsyncConnection, layers: Sequence[Layer]) -> dict[str, Extent]:
    """Each layer's spatial extent (lon/lat bbox, None when empty) and temporal extent (None
    when the layer has no datetime column), in one round trip."""
    if not layers:
        return {}
    parts = []
    for layer in layers:
        temporal = (
            sql.SQL("min({c}), max({c})").format(c=_col(layer.datetime_column))
            if layer.datetime_column
            else sql.SQL("NULL::timestamptz, NULL::timestamptz")
        )
        parts.append(
            sql.SQL(
                "SELECT {id}, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), tmin, tmax FROM "
                "(SELECT ST_Extent({geom}), {temporal} FROM {table} AS t{where}) "
                "AS x(e, tmin, tmax)"
            ).format(
                id=sql.Literal(layer.id),
                geom=_col(layer.geometry_column),
                temporal=temporal,
                table=sql.Identifier(layer.table),
                where=_where(_base_conditions(layer)),
            )
        )
    rows = await (await conn.execute(sql.SQL(" UNION ALL ").join(parts))).fetchall()
    extents: dict[str, Extent] = {}
    for layer_id, minx, miny, maxx, maxy, tmin, tmax in rows:
        spatial = None if minx is None else [minx, miny, maxx, maxy]
        layer = next(la for la in layers if la.id == layer_id)
        interval = None
        if layer.datetime_column:
            interval = [t.isoformat() if t else None for t in (tmin, tmax)]
        extents[layer_id] = (spatial, interval)
    return extents

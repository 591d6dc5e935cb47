"""One import, start to end: read and check the file (no database yet), then in ONE
transaction lock the layer, diff and write (each added, changed and removed feature a
feature_events row: importers/sync.py), update the layer's metadata and record the run.
Any failure rolls everything back and surfaces as `ImportFailed`."""

from __future__ import annotations

import getpass
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from gis import councils
from gis.db import libpq_url
from importers import categories, streets
from importers.geometry import clean_geometry, crs_label, geometry_family
from importers.readers import Source, read_features
from importers.report import ImportFailed, ImportReport
from importers.sync import Audit, sync
from importers.targets import CORE_TARGETS, Rejected, SpatialTarget, thematic_target

Store = Callable[[psycopg.Connection, Audit], dict[str, int]]

#: Layers whose table holds polygons a district or ward is inside of.
_AREA_LAYERS = ("hromadas", "districts", "wards")


@dataclass
class LayerMeta:
    """What the `layers` row of a thematic layer says about it."""

    title: str
    geometry_type: str
    source: str
    title_en: str | None = None
    description: str | None = None
    attribution: str | None = None
    title_given: bool = False  # --title: replaces the title of an existing layer


def prepare_spatial(
    target: SpatialTarget, path: Path, report: ImportReport, *, key, source_crs, lon, lat, wkt
) -> tuple[list[tuple], set[str], Source]:
    """Read the file and turn each feature into a row, or a rejection naming it.

    Returns the rows, the geometry types kept, and the `Source` read.
    """
    source = read_features(path, source_crs=source_crs, lon=lon, lat=lat, wkt=wkt)
    report.read = len(source.features)
    report.crs = crs_label(source.crs)
    rows, types = [], set()
    first_seen: dict[str, str] = {}  # key -> the feature that had it first
    for feature in source.features:
        who = feature.label
        try:
            feature_key = target.key_of(feature, key)
            if feature_key != feature.fid and not feature_key.startswith("#"):
                who = f"{who} (key {feature_key})" if feature.fid or feature.where else feature_key
            if feature.error:
                raise Rejected(feature.error)
            cleaned = clean_geometry(feature.geom, source.crs)
            if cleaned.rejected:
                raise Rejected(cleaned.rejected)
            assert cleaned.geom is not None  # not rejected
            geom = target.fit_geometry(cleaned.geom)
            if feature_key in first_seen:
                raise Rejected(
                    f"duplicate key {feature_key!r} (also {first_seen[feature_key]}); "
                    "the first is kept"
                )
            notes: list[str] = []
            row = target.build(feature, feature_key, geom, notes)
        except Rejected as exc:
            report.reject(who, str(exc))
            continue
        first_seen[feature_key] = who
        if cleaned.repaired:
            report.repair(who, cleaned.repaired)
        for note in notes:
            report.repair(who, note)
        rows.append(row)
        types.add(geom.geom_type)
    if not source.features:
        raise ImportFailed(f"{path.name} has no features")
    if not rows:
        first = report.messages()[0]
        raise ImportFailed(
            f"all {len(source.features)} features of {path.name} were rejected; first: {first}"
        )
    return rows, types, source


@contextmanager
def transaction(url: str):
    """A connection whose work commits at the end of the block, or is rolled back entirely;
    database errors become ImportFailed."""
    try:
        with psycopg.connect(libpq_url(url)) as conn:
            # Dates and numbers print the same in every session: content hashes depend on it.
            conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
            conn.execute("SET LOCAL extra_float_digits = 1")
            yield conn
    except psycopg.Error as exc:
        detail = exc.diag.message_primary if getattr(exc, "diag", None) else None
        raise ImportFailed(f"database error: {detail or exc}") from exc


#: Two imports of the same layer (this pipeline's, a register's) wait for each other.
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('hromada.import:' || %s, 0))"


def _lock(conn: psycopg.Connection, layer: str) -> None:
    """Two imports of the same layer wait for each other instead of interleaving."""
    conn.execute(LOCK_SQL, (layer,))


def _upsert_layer(conn: psycopg.Connection, name: str, meta: LayerMeta) -> None:
    """Create the thematic layer's row on first import (update regime 'monthly', no owner
    yet); on later ones refresh its geometry type and source. `last_updated` is set by
    `_touch_layer`."""
    conn.execute(
        """
        INSERT INTO layers (name, title, title_en, description, geometry_type, kind,
                            update_regime, source, attribution)
        VALUES (%(name)s, %(title)s, %(title_en)s, %(description)s, %(geometry_type)s,
                'thematic', 'monthly', %(source)s, %(attribution)s)
        ON CONFLICT (name) DO UPDATE SET
            title = CASE WHEN %(title_given)s THEN EXCLUDED.title ELSE layers.title END,
            title_en = COALESCE(layers.title_en, EXCLUDED.title_en),
            description = COALESCE(layers.description, EXCLUDED.description),
            geometry_type = EXCLUDED.geometry_type,
            source = EXCLUDED.source,
            attribution = COALESCE(layers.attribution, EXCLUDED.attribution)
        """,
        {"name": name, **meta.__dict__},
    )


def _touch_layer(conn: psycopg.Connection, name: str) -> None:
    """Mark the layer refreshed (core layers only have a row if one was registered)."""
    conn.execute("UPDATE layers SET last_updated = now() WHERE name = %s", (name,))


def _ensure_council(conn: psycopg.Connection) -> None:
    """A one-community install's council (issue 17, gis/councils.ensure_single): when the
    import leaves exactly one current hromada, it is the council's area."""
    rows = conn.execute(
        "SELECT code, name, name_en FROM hromadas WHERE valid_to IS NULL LIMIT 2"
    ).fetchall()
    if len(rows) == 1:
        code, name, name_en = rows[0]
        councils.ensure_single(conn, code, name, name_en=name_en)


#: A KATOTTH code: «UA», then the oblast's two digits, then 15 more.
_KATOTTH = re.compile(r"UA\d{17}")

#: Мінрегіон's atlas of the 2020 administrative reform (ATU portal), as saved in
#: /work/shared/data: the credit every map drawing these boundaries shows (CC BY-SA).
MINREGION_SOURCE = "Мінрегіон, атлас АТУ (via vadymnes/gis_files @ 8965f6ec)"
MINREGION_ATTRIBUTION = "© Мінрегіон (CC BY-SA)"


def hromadas_scope(target: SpatialTarget, rows: list[tuple]) -> SpatialTarget:
    """An oblast's file replaces that oblast only (issue 17): when every key is a KATOTTH
    code, the rows a hromadas import may close are those whose code starts like one of the
    file's (`UA23` for Zaporizhzhia), so Kyiv's boundary survives importing another oblast."""
    keys = [row[0] for row in rows]
    if not keys or not all(_KATOTTH.fullmatch(k) for k in keys):
        return target
    prefixes = ", ".join(sorted({f"'{k[:4]}'" for k in keys}))  # UA + 2 digits: safe literals
    return replace(target, sync_target=replace(
        target.sync_target, where=f"left({{t}}.code, 4) IN ({prefixes})"))  # fmt: skip


def _credit_hromadas(conn: psycopg.Connection, path: Path) -> None:
    """The 'hromadas' layers row names Мінрегіон when its atlas file was imported."""
    if "minregion" not in path.name.lower():
        return
    conn.execute(
        "INSERT INTO layers (name, title, title_en, description, geometry_type, kind,"
        " update_regime, source, attribution, is_public)"
        " VALUES ('hromadas', 'Громади', 'Hromadas', 'Межі територіальних громад (Мінрегіон).',"
        " 'MultiPolygon', 'core', 'on_change', %s, %s, true)"
        " ON CONFLICT (name) DO UPDATE SET source = EXCLUDED.source,"
        " attribution = EXCLUDED.attribution",
        (MINREGION_SOURCE, MINREGION_ATTRIBUTION),
    )


def _link_areas_to_hromadas(conn: psycopg.Connection) -> None:
    """Point each current district and ward at the current hromada it lies in."""
    for table in ("districts", "wards"):
        conn.execute(
            f"""
            UPDATE {table} AS a SET hromada_id = h.id
              FROM hromadas AS h
             WHERE a.valid_to IS NULL AND h.valid_to IS NULL
               AND ST_Covers(h.geom, ST_PointOnSurface(a.geom))
               AND a.hromada_id IS DISTINCT FROM h.id
            """
        )


def import_actor(path: Path) -> str:
    """Who a feature event of this import names: the file and the OS user running it."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (a container without one)
        user = None
    return f"import:{path.name} ({user or 'hromada import'})"


RECORD_RUN_SQL = """
INSERT INTO import_runs (layer, source, added, changed, unchanged, removed,
                         rejected, repaired, report)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def run_values(report: ImportReport) -> tuple:
    """RECORD_RUN_SQL's parameters: the import_runs row of a report."""
    return (report.layer, report.source, report.added, report.changed, report.unchanged,
            report.removed, report.rejected, report.repaired,
            psycopg.types.json.Jsonb(report.as_json()))  # fmt: skip


def _record_run(conn: psycopg.Connection, report: ImportReport) -> int:
    row = conn.execute(RECORD_RUN_SQL, run_values(report)).fetchone()
    assert row is not None  # INSERT ... RETURNING
    return row[0]


def run_import(
    url: str,
    path: Path,
    layer: str,
    *,
    key: str | None = None,
    source_crs: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    wkt: str | None = None,
    title: str | None = None,
    title_en: str | None = None,
    description: str | None = None,
) -> ImportReport:
    """Import `path` into `layer`; see importers/__init__.py."""
    started = time.monotonic()
    path = Path(path)
    layer = (layer or "").strip()
    report = ImportReport(layer=layer, source=str(path))

    meta: LayerMeta | None = None
    if layer == "streets":
        store: Store = streets.prepare(path, report)
    elif layer == "categories":
        store = categories.prepare(path, report)
    else:
        target = CORE_TARGETS.get(layer) or thematic_target(layer)
        rows, types, source = prepare_spatial(
            target, path, report, key=key, source_crs=source_crs, lon=lon, lat=lat, wkt=wkt
        )
        if layer == "hromadas":
            target = hromadas_scope(target, rows)
        if target.thematic:
            meta = LayerMeta(
                title=title or source.title or layer.replace("_", " ").capitalize(),
                title_given=bool(title),
                title_en=title_en,
                description=description,
                geometry_type=geometry_family(types),
                source=path.name,
                attribution=source.attribution,
            )

        def store(conn: psycopg.Connection, audit: Audit) -> dict[str, int]:
            return sync(conn, target.sync_target, rows, audit)

    with transaction(url) as conn:
        _lock(conn, layer)
        if meta is not None:
            _upsert_layer(conn, layer, meta)
        report.add_counts(store(conn, Audit(layer, import_actor(path))))
        if layer in _AREA_LAYERS:
            _link_areas_to_hromadas(conn)
        if layer == "hromadas":
            _ensure_council(conn)
            _credit_hromadas(conn, path)
        _touch_layer(conn, layer)
        report.run_id = _record_run(conn, report)
    report.seconds = round(time.monotonic() - started, 2)
    return report

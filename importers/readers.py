"""Reading features from files as users have them: GeoJSON (any geometry type, with or
without the legacy `crs` member), CSV with coordinate or WKT columns, and whatever GDAL reads
(Shapefile, GeoPackage, FlatGeobuf, KML...) through pyogrio.

Readers only read: geometries come out in the file's own CRS, as the file has them (invalid,
empty or missing ones included); `geometry.clean_geometry` decides what to do with them.
A file that cannot be read at all raises `ImportFailed`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from importers.geometry import WGS84, CRSNotUnderstood, parse_crs
from importers.report import ImportFailed

GEOJSON_SUFFIXES = {".geojson", ".json"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}

# Column names recognised in CSV files, compared case-insensitively.
LON_COLUMNS = ("lon", "lng", "long", "longitude", "x", "easting", "довгота", "х")
LAT_COLUMNS = ("lat", "latitude", "y", "northing", "широта", "у")  # х, у: Cyrillic
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "геометрія")

OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass
class Feature:
    """One feature as read: its position, id, attributes and geometry in the file's CRS."""

    index: int  # 1-based position in the file
    fid: str | None  # the id the file gives it (GeoJSON `id`, OGR FID), if any
    properties: dict
    geom: BaseGeometry | None  # None: no geometry, or one that could not be parsed
    error: str | None = None  # why the geometry could not be parsed
    where: str | None = None  # how to find it when it has no id, e.g. "row 12"

    @property
    def label(self) -> str:
        """How messages name the feature: its id, else its row or position."""
        if self.fid not in (None, ""):
            return str(self.fid)
        return self.where or f"feature #{self.index}"


@dataclass
class Source:
    """The features of one file and what the file says about itself."""

    path: Path
    format: str  # "geojson", "csv" or the GDAL driver's name
    features: list[Feature]
    crs: CRS = field(default=WGS84)
    title: str | None = None
    attribution: str | None = None


def read_features(
    path: Path,
    *,
    source_crs: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    wkt: str | None = None,
) -> Source:
    """Read the features of a spatial file.

    Parameters
    ----------
    path
        A GeoJSON (.geojson/.json), CSV (.csv/.tsv/.txt) or any vector file GDAL reads.
    source_crs
        The CRS of the coordinates when the file does not say, or to override what it says
        (``"EPSG:5564"``). Default: what the file says, else EPSG:4326 (lon/lat degrees).
    lon, lat, wkt
        CSV only: the columns holding x (longitude or easting) and y (latitude or northing),
        or a WKT geometry. Default: found by their usual names.

    Raises
    ------
    ImportFailed
        The file is missing, not parseable, has no geometry columns, or names an unknown CRS.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:
        source = _read_geojson(path)
    elif suffix in CSV_SUFFIXES:
        source = _read_csv_features(path, lon=lon, lat=lat, wkt=wkt)
    else:
        source = _read_ogr(path)
    if source_crs:
        try:
            source.crs = parse_crs(source_crs)
        except CRSNotUnderstood as exc:
            raise ImportFailed(f"--crs: {exc}") from None
    return source


# --- GeoJSON -------------------------------------------------------------------------------


def load_json(path: Path) -> object:
    """Parse a JSON file, or raise ImportFailed saying where it is broken."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path.name} is not UTF-8 text: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _read_geojson(path: Path) -> Source:
    doc = load_json(path)
    if not isinstance(doc, dict) or "type" not in doc:
        raise ImportFailed(f"{path.name} is not GeoJSON: expected an object with a 'type'")
    kind = doc["type"]
    if kind == "FeatureCollection":
        raw = doc.get("features")
        if not isinstance(raw, list):
            raise ImportFailed(f"{path.name}: a FeatureCollection without a 'features' list")
    elif kind == "Feature":
        raw = [doc]
    elif kind in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"):  # fmt: skip
        raw = [{"type": "Feature", "properties": {}, "geometry": doc}]
    else:
        raise ImportFailed(f"{path.name} is not GeoJSON: unknown type {kind!r}")

    crs = WGS84
    if doc.get("crs") is not None:
        try:
            crs = parse_crs(doc["crs"])
        except CRSNotUnderstood as exc:
            raise ImportFailed(f"{path.name}: {exc}; name the CRS with --crs") from None

    features = [_geojson_feature(i, item) for i, item in enumerate(raw, start=1)]
    copyright_ = " ".join(str(doc.get(k, "")) for k in ("copyright", "generator", "attribution"))
    attribution = OSM_ATTRIBUTION if "openstreetmap" in copyright_.lower() else None
    title = doc.get("name") if isinstance(doc.get("name"), str) else None
    return Source(path, "geojson", features, crs=crs, title=title, attribution=attribution)


def _geojson_feature(index: int, item: object) -> Feature:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return Feature(index, None, {}, None, error="not a GeoJSON Feature object")
    fid = item.get("id")
    props = item.get("properties")
    props = props if isinstance(props, dict) else {}
    fid = str(fid) if fid is not None else None
    geometry = item.get("geometry")
    if geometry is None:
        return Feature(index, fid, props, None)
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError,
            shapely.errors.ShapelyError) as exc:  # fmt: skip
        return Feature(index, fid, props, None, error=f"unparseable geometry: {exc}")
    return Feature(index, fid, props, geom)


# --- CSV -----------------------------------------------------------------------------------


@dataclass
class Table:
    """Rows of a CSV file: each a dict keyed by the header's (stripped) column names."""

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]

    def find(self, given: str | None, candidates: tuple[str, ...], what: str) -> str | None:
        """The column named `given` (it must exist), else the first of `candidates` present
        (case-insensitive), else None."""
        by_lower = {c.lower(): c for c in self.columns}
        if given:
            if given.lower() not in by_lower:
                raise ImportFailed(
                    f"{self.path.name}: no column {given!r} for {what}; "
                    f"columns are: {', '.join(self.columns)}"
                )
            return by_lower[given.lower()]
        return next((by_lower[c] for c in candidates if c in by_lower), None)


def read_table(path: Path) -> Table:
    """Read a CSV file whatever its delimiter (, ; tab |) and encoding (UTF-8, with or
    without BOM, else Windows-1251 as Ukrainian spreadsheets save it). Quoted fields may span
    lines."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {path}: {exc.strerror}") from None
    return parse_table(data, path)


def parse_table(data: bytes, path: Path) -> Table:
    """`read_table` of a file's bytes (an upload): `path` only names it in messages."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251")
    if not text.strip():
        raise ImportFailed(f"{path.name} is empty")
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [h.strip() for h in next(reader)]
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank line
            rows.append({h: (values[i] if i < len(values) else "") for i, h in enumerate(header)})
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}: not a readable CSV file ({exc})") from None
    return Table(path, header, rows)


def _cell_text(value: object) -> str:
    """A spreadsheet cell as a CSV would have it: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def parse_xlsx_table(data: bytes, path: Path, *, max_rows: int | None = None) -> Table:
    """The first sheet of an XLSX workbook as a `Table`: its first non-empty row the header,
    every later non-empty row a row (cells as text, `_cell_text`); at most `max_rows` + 1 of them
    are read (the caller refuses a file that long). ImportFailed when it is not a workbook."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise ImportFailed(f"{path.name}: not an XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFailed(f"{path.name} has no sheet")
        header: list[str] | None = None
        rows: list[dict[str, str]] = []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                continue
            if max_rows is not None and len(rows) > max_rows:
                break  # the caller says the file is too long
            rows.append(
                {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
            )
    finally:
        book.close()
    if header is None:
        raise ImportFailed(f"{path.name} is empty")
    return Table(path, [h for h in header if h], rows)


def parse_number(text: str | None) -> float | None:
    """A number as written in a CSV cell (``"30.52"``, ``"30,52"``, ``" 3 393 000 "``), or None
    if the cell is empty. Raises ValueError if it is not a number."""
    if text is None:
        return None
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _read_csv_features(path: Path, *, lon: str | None, lat: str | None, wkt: str | None) -> Source:
    table = read_table(path)
    wkt_col = table.find(wkt, () if (lon or lat) else WKT_COLUMNS, "the WKT geometry")
    lon_col = table.find(lon, () if wkt else LON_COLUMNS, "the longitude (x)")
    lat_col = table.find(lat, () if wkt else LAT_COLUMNS, "the latitude (y)")
    use_xy = lon_col is not None and lat_col is not None
    if not use_xy and wkt_col is None:
        raise ImportFailed(
            f"{path.name} has no geometry columns: expected longitude/latitude columns "
            f"({'/'.join(LON_COLUMNS)} and {'/'.join(LAT_COLUMNS)}) or a WKT column "
            f"({'/'.join(WKT_COLUMNS)}), or name them with --lon/--lat or --wkt; "
            f"columns are: {', '.join(table.columns)}"
        )
    geom_cols = {lon_col, lat_col} if use_xy else {wkt_col}

    features = []
    for i, row in enumerate(table.rows, start=1):
        props = {k: (v if v.strip() else None) for k, v in row.items() if k not in geom_cols}
        where = f"row {i}"
        geom: BaseGeometry | None = None
        error: str | None = None
        if lon_col is not None and lat_col is not None:  # use_xy
            try:
                x, y = parse_number(row[lon_col]), parse_number(row[lat_col])
                if x is not None and y is not None:
                    geom = shapely.Point(x, y)
                elif (x is None) != (y is None):
                    error = f"only one coordinate ({lon_col}={row[lon_col]!r}, {lat_col}={row[lat_col]!r})"
            except ValueError:
                error = f"unparseable coordinates {lon_col}={row[lon_col]!r}, {lat_col}={row[lat_col]!r}"
        elif wkt_col is not None and row[wkt_col].strip():
            try:
                geom = shapely.from_wkt(row[wkt_col])
            except shapely.errors.ShapelyError as exc:
                error = f"unparseable WKT: {exc}"
        features.append(Feature(i, None, props, geom, error=error, where=where))
    return Source(path, "csv", features)


# --- Anything GDAL reads -------------------------------------------------------------------


def _plain(value: object) -> object:
    """A value pyogrio read, as something JSON can hold."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    return value


def _read_ogr(path: Path) -> Source:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        meta, fids, wkbs, field_data = pyogrio.raw.read(
            path, return_fids=True, datetime_as_string=True
        )
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise ImportFailed(f"{path.name}: GDAL cannot read it ({exc})") from None
    crs = WGS84
    if meta.get("crs"):
        try:
            crs = parse_crs(meta["crs"])
        except CRSNotUnderstood as exc:
            raise ImportFailed(f"{path.name}: {exc}; name the CRS with --crs") from None
    names = list(meta["fields"])
    features = []
    for i in range(len(wkbs) if wkbs is not None else len(fids)):
        props = {name: _plain(field_data[j][i]) for j, name in enumerate(names)}
        geom, error = None, None
        if wkbs is not None and wkbs[i] is not None:
            try:
                geom = shapely.from_wkb(wkbs[i])
            except shapely.errors.ShapelyError as exc:
                error = f"unparseable geometry: {exc}"
        fid = str(fids[i]) if fids is not None else None
        features.append(Feature(i + 1, fid, props, geom, error=error))
    return Source(path, str(meta.get("driver") or "ogr"), features, crs=crs)

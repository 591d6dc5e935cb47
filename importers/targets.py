"""Spatial targets: how a feature read from a file becomes a row of districts, hromadas,
wards, advertising_structures, kiosks, or of a thematic layer in layer_features.

Each target names the property that keys a feature across re-imports, the kind of geometry
it accepts, and a function from (feature, key, cleaned geometry) to the row `sync` writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry.base import BaseGeometry

from gis.models import Base
from importers.geometry import to_multipolygon
from importers.readers import Feature
from importers.report import ImportFailed
from importers.sync import Target
from importers.values import clean_text, lookup, parse_date, parse_float, parse_size

#: Thematic layer names become URL path segments, tile-source ids and SQL literals: keep them
#: to lower-case Latin letters, digits and underscores.
SAFE_LAYER_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Rejected(Exception):
    """This feature cannot be imported; the message says why."""


Notes = list[str]  # what was fixed on the way in, one line each
RowBuilder = Callable[[Feature, str, BaseGeometry, Notes], tuple]


@dataclass(frozen=True)
class SpatialTarget:
    layer: str
    sync_target: Target
    geometry: Literal["area", "point", "any"]
    key_names: tuple[str, ...]  # properties tried in turn for the key; "@fid" = the file's id
    build: RowBuilder
    key_max_length: int = 64
    key_is_int: bool = False
    thematic: bool = False

    def key_of(self, feature: Feature, key_option: str | None) -> str:
        """The feature's key: the --key property if given, else the first of `key_names`
        it has (thematic layers fall back to the position in the file)."""
        if key_option:
            value = lookup(feature.properties, key_option)
            if value is None:
                raise Rejected(f"no value for the key property {key_option!r}")
        else:
            value = None
            for name in self.key_names:
                value = feature.fid if name == "@fid" else lookup(feature.properties, name)
                if value not in (None, ""):
                    break
            if value in (None, ""):
                if not self.thematic:
                    raise Rejected(f"no key: none of the properties {', '.join(self.key_names)}")
                value = f"#{feature.index}"
        key = clean_text(value) or ""
        if self.key_is_int:
            try:
                key = str(int(float(key)))
            except ValueError:
                raise Rejected(f"key {key!r} is not a number") from None
        if not key:
            raise Rejected("empty key")
        if len(key) > self.key_max_length:
            raise Rejected(f"key {key[:40]!r}… longer than {self.key_max_length} characters")
        return key

    def fit_geometry(self, geom: BaseGeometry) -> BaseGeometry:
        """The geometry as this target stores it, or Rejected."""
        if self.geometry == "area":
            multi = to_multipolygon(geom)
            if multi is None:
                raise Rejected(f"a {geom.geom_type} is not an area; skipped")
            return multi
        if self.geometry == "point":
            if isinstance(geom, shapely.MultiPoint) and len(geom.geoms) == 1:
                return geom.geoms[0]
            if geom.geom_type != "Point":
                raise Rejected(f"a {geom.geom_type} where a point is expected; skipped")
        return geom


def ewkb_hex(geom: BaseGeometry) -> str:
    """Hex EWKB with SRID 4326: what PostGIS reads from COPY text into a geometry column."""
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def _strip_nul(value: object) -> object:
    """PostgreSQL text and jsonb cannot hold U+0000."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value


def properties_json(properties: dict) -> str:
    return json.dumps(_strip_nul(properties), ensure_ascii=False, default=str)


def _name(feature: Feature, *names: str) -> str:
    name = clean_text(lookup(feature.properties, *names))
    if not name:
        raise Rejected(f"no name (none of the properties {', '.join(names)})")
    return name


def _date(feature: Feature, notes: Notes, *names: str):
    raw = lookup(feature.properties, *names)
    try:
        return parse_date(raw)
    except ValueError:
        notes.append(f"unreadable date {raw!r} in {names[0]} left empty")
        return None


def _number(feature: Feature, notes: Notes, *names: str) -> float | None:
    raw = lookup(feature.properties, *names)
    try:
        return parse_float(raw)
    except ValueError:
        notes.append(f"unreadable number {raw!r} in {names[0]} left empty")
        return None


def _text(feature: Feature, *names: str, max_length: int | None = None) -> str | None:
    value = clean_text(lookup(feature.properties, *names))
    if value is not None and max_length:
        value = value[:max_length]
    return value


# --- areas ---------------------------------------------------------------------------------


def _district_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    return (
        key,
        _name(f, "name:uk", "name", "назва"),
        _text(f, "name:en", "int_name", "name_en"),
        clean_text(lookup(f.properties, "@id")) or f.fid,
        properties_json(f.properties),
        ewkb_hex(geom),
    )


def _hromada_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    # Мінрегіон's ATU files (issue 17): `name_uk` is the short adjective («Запорізька»),
    # `type_uk` the rest of the full name («міська територіальна громада»).
    name = _name(f, "name:uk", "name", "назва", "name_uk")
    kind = _text(f, "type_uk")
    return (
        key,
        f"{name} {kind}" if kind and kind not in name else name,
        _text(f, "name:en", "int_name", "name_en"),
        clean_text(lookup(f.properties, "@id")) or f.fid,
        ewkb_hex(geom),
    )


def _ward_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    name = _text(f, "name", "name:uk", "назва") or f"Виборчий округ № {key}"
    return (int(key), name, _text(f, "description", "опис"), False, ewkb_hex(geom))


# --- registries of point objects -------------------------------------------------------------

_KIND = ("kind", "type", "вид", "тип", "category")
_OWNER = ("owner", "власник", "розповсюджувач", "distributor", "operator")
_PERMIT = ("permit_number", "permit", "дозвіл", "номер дозволу", "permit_no")
_VALID_UNTIL = ("permit_valid_until", "valid_until", "дійсний до", "термін дії", "expires")
_ADDRESS = ("address", "адреса", "addr", "місце розташування", "адреса розміщення")
_SIZE = ("size", "розмір", "format")
_WIDTH = ("width_m", "width", "ширина")
_HEIGHT = ("height_m", "height", "висота")
_AREA = ("area_m2", "area", "площа")
_SPECIALIZATION = ("specialization", "спеціалізація", "призначення", "shop", "amenity")

#: The column names a register (importers/registers.py) may give each property of
#: gis/structures.py's FIELDS under, compared case-insensitively; the same names the row
#: builders below read.
PROPERTY_ALIASES: dict[str, tuple[str, ...]] = {
    "kind": _KIND,
    "size": _SIZE,
    "width_m": _WIDTH,
    "height_m": _HEIGHT,
    "sides": ("sides", "сторін", "кількість сторін", "сторони"),
    "specialization": _SPECIALIZATION,
    "area_m2": _AREA,
    "owner": _OWNER,
    "holder_is_person": ("holder_is_person", "фізична особа", "фоп"),
    "permit_number": _PERMIT,
    "permit_type": ("permit_type", "тип дозволу", "вид дозволу"),
    "permit_valid_from": ("permit_valid_from", "valid_from", "дійсний з", "дата видачі"),
    "permit_valid_until": _VALID_UNTIL,
    "address": _ADDRESS,
}


def _advertising_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    size = _text(f, *_SIZE, max_length=32)
    width = _number(f, notes, *_WIDTH)
    height = _number(f, notes, *_HEIGHT)
    if (width is None or height is None) and (parsed := parse_size(size)):
        width, height = parsed
    return (
        key,
        _text(f, *_KIND) or "unknown",
        size,
        width,
        height,
        _text(f, *_OWNER),
        _text(f, *_PERMIT),
        _date(f, notes, *_VALID_UNTIL),
        _text(f, *_ADDRESS),
        False,
        ewkb_hex(geom),
    )


def _kiosk_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    area = _number(f, notes, *_AREA)
    if area is not None and not 0 <= area < 1_000_000:
        notes.append(f"area {area} m² out of range, left empty")
        area = None
    return (
        key,
        _text(f, *_KIND) or "unknown",
        _text(f, *_SPECIALIZATION),
        _text(f, *_OWNER),
        round(area, 2) if area is not None else None,
        _text(f, *_PERMIT),
        _date(f, notes, *_VALID_UNTIL),
        _text(f, *_ADDRESS),
        False,
        ewkb_hex(geom),
    )


def _thematic_row(f: Feature, key: str, geom: BaseGeometry, notes: Notes) -> tuple:
    return (key, properties_json(f.properties), ewkb_hex(geom))


CORE_TARGETS: dict[str, SpatialTarget] = {
    "districts": SpatialTarget(
        "districts",
        Target("districts", "code", ("name", "name_en", "source_id", "properties", "geom"),
               removal="close"),
        "area", ("katotth", "@id", "@fid"), _district_row, key_max_length=32,
    ),
    "hromadas": SpatialTarget(
        "hromadas",
        Target("hromadas", "code", ("name", "name_en", "source_id", "geom"), removal="close"),
        "area", ("katotth", "katottg", "@id", "@fid"), _hromada_row, key_max_length=32,
    ),
    "wards": SpatialTarget(
        "wards",
        Target("wards", "number", ("name", "description", "generated", "geom"), removal="close"),
        "area", ("number", "ward", "ward_number", "okrug", "округ", "номер", "№"), _ward_row,
        key_is_int=True,
    ),
    "advertising_structures": SpatialTarget(
        "advertising_structures",
        Target("advertising_structures", "code",
               ("kind", "size", "width_m", "height_m", "owner", "permit_number",
                "permit_valid_until", "address", "generated", "geom")),
        "point", ("code", "код", "id", "номер", "@id", "@fid"), _advertising_row,
    ),
    "kiosks": SpatialTarget(
        "kiosks",
        Target("kiosks", "code",
               ("kind", "specialization", "owner", "area_m2", "permit_number",
                "permit_valid_until", "address", "generated", "geom")),
        "any", ("code", "код", "id", "номер", "@id", "@fid"), _kiosk_row,
    ),
}  # fmt: skip

#: Names a thematic layer may not take: the tables of the schema and the core targets.
RESERVED_NAMES = frozenset(Base.metadata.tables) | {"streets", "categories"}


def thematic_target(layer: str) -> SpatialTarget:
    """The target of a thematic layer (features in layer_features), or ImportFailed if the
    name is not a safe identifier."""
    if not SAFE_LAYER_NAME.fullmatch(layer):
        raise ImportFailed(
            f"layer name {layer!r} is not a safe identifier: use lower-case Latin letters, "
            "digits and underscores, starting with a letter, at most 64 characters "
            "(e.g. abandoned_buildings)"
        )
    if layer in RESERVED_NAMES:
        raise ImportFailed(f"layer name {layer!r} is taken by the schema; choose another")
    return SpatialTarget(
        layer,
        Target("layer_features", "feature_key", ("properties", "geom"),
               scope={"layer_name": layer}, hash_column="content_hash", touch=("updated_at",)),
        "any", ("@fid", "@id", "id"), _thematic_row, key_max_length=1000, thematic=True,
    )  # fmt: skip

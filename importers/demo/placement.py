"""The demo city's placement rules (gis/placement_rules.py; checked on every save by
gis/placement.py), one of each kind:

- advertising structures at least 30 m from one another (min_distance_same);
- kiosks not within 15 m of an advertising structure (min_distance_layer: a kiosk must not
  hide a structure's face, nor a structure stand over a kiosk's counter);
- no advertising structure inside the protected zone (not_inside_layer) — a thematic layer
  «Охоронна зона (згенеровано)» holding one polygon drawn around St Sophia's and
  St Michael's in the Upper Town. No public polygon of Kyiv's protected zones exists, so this
  one is drawn by hand, and both its layer and its feature say they are generated.

Re-running replaces the demo's own rules (known by their titles, made by nobody) and the
zone's feature, made at the demo's `now` (the same seed and `now`, the same rows); rules an
administrator made stay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

ZONE_LAYER = "protected_zone"
ZONE_TITLE = "Охоронна зона (згенеровано)"
ZONE_TITLE_EN = "Protected zone (generated)"
ZONE_DESCRIPTION = (
    "Охоронна зона пам’яток Верхнього міста (Софійський і Михайлівський собори). Демо: "
    "полігон намальовано вручну — згенеровано, це не офіційні межі."
)
ZONE_NAME = "Охоронна зона Софійського й Михайлівського соборів (згенеровано)"
# (lon, lat), WGS 84, closed ring: the Upper Town around St Sophia's and St Michael's.
ZONE_RING = (
    (30.5095, 50.4560), (30.5180, 50.4568), (30.5240, 50.4545), (30.5215, 50.4505),
    (30.5125, 50.4498), (30.5080, 50.4525), (30.5095, 50.4560),
)  # fmt: skip

# layer, kind, distance_m, other_layer, title, title_en
RULES = (
    ("advertising_structures", "min_distance_same", 30, None,
     "Рекламні конструкції — не ближче 30 м одна від одної",
     "Advertising structures at least 30 m apart"),
    ("kiosks", "min_distance_layer", 15, "advertising_structures",
     "МАФ — не ближче 15 м до рекламної конструкції",
     "Kiosks not within 15 m of an advertising structure"),
    ("advertising_structures", "not_inside_layer", None, ZONE_LAYER,
     "Реклама заборонена в охоронній зоні",
     "No advertising inside the protected zone"),
)  # fmt: skip


def build_zone(conn, now: dt.datetime) -> int:
    """The protected zone's thematic layer and its one polygon (made again each run)."""
    conn.execute(
        "INSERT INTO layers (name, title, title_en, description, geometry_type, kind,"
        " owner_department, update_regime, last_updated, source, is_public)"
        " VALUES (%s, %s, %s, %s, 'Polygon', 'thematic', %s, 'on_change', %s,"
        " 'hromada demo (generated)', true)"
        " ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title, title_en = EXCLUDED.title_en,"
        " description = EXCLUDED.description, geometry_type = EXCLUDED.geometry_type,"
        " last_updated = EXCLUDED.last_updated, source = EXCLUDED.source",
        (ZONE_LAYER, ZONE_TITLE, ZONE_TITLE_EN, ZONE_DESCRIPTION,
         "Департамент охорони культурної спадщини", now),
    )  # fmt: skip
    conn.execute("DELETE FROM layer_features WHERE layer_name = %s", (ZONE_LAYER,))
    properties = {"name": ZONE_NAME, "generated": True}
    geometry = {"type": "Polygon", "coordinates": [[list(p) for p in ZONE_RING]]}
    digest = hashlib.sha256(
        json.dumps([properties, geometry], ensure_ascii=False, sort_keys=True).encode()
    ).hexdigest()
    conn.execute(
        "INSERT INTO layer_features (layer_name, feature_key, properties, content_hash, geom,"
        " updated_at) VALUES (%s, 'zone-1', %s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326), %s)",
        (ZONE_LAYER, json.dumps(properties, ensure_ascii=False), digest, json.dumps(geometry), now),
    )
    return 1


def build_rules(conn, now: dt.datetime) -> int:
    """The three rules, made again (the demo's own only), made at `now`."""
    titles = [r[4] for r in RULES]
    conn.execute(
        "DELETE FROM placement_rules WHERE created_by IS NULL AND title = ANY(%s)", (titles,)
    )
    for layer, kind, distance, other, title, title_en in RULES:
        conn.execute(
            "INSERT INTO placement_rules (layer, kind, distance_m, other_layer, title, title_en,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (layer, kind, distance, other, title, title_en, now),
        )
    return len(RULES)

"""What the public API and the portal show of councils on a map (issue 17, slice D):
the credit of the boundaries drawn and a council's extent.

- `attribution(conn)`: the 'hromadas' layers row's credit («© Мінрегіон (CC BY-SA)» after
  Мінрегіон's ATU atlas was imported; importers/pipeline), with OpenStreetMap's when a
  current boundary is OSM's (Kyiv's), else OpenStreetMap's alone.
- `extent(conn, council)`: the current boundary's bbox [west, south, east, north] and area
  in km², or None when the council's hromada is not loaded.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from gis.councils import Council

OSM_CREDIT = "© OpenStreetMap contributors (ODbL)"


async def attribution(conn: AsyncConnection) -> str:
    """The 'hromadas' layer's credit, and OSM's too when a current boundary came from OSM
    (Kyiv's city boundary beside an imported oblast: its source_id is an OSM id)."""
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT (SELECT attribution FROM layers WHERE name = 'hromadas'),"
            " EXISTS (SELECT 1 FROM hromadas WHERE valid_to IS NULL"
            "         AND source_id ~ '^(node|way|relation)/')"
        )
        row = await cur.fetchone()
    credit, from_osm = row if row else (None, False)
    if not credit:
        return OSM_CREDIT
    return f"{credit}; {OSM_CREDIT}" if from_osm and credit != OSM_CREDIT else credit


async def extent(conn: AsyncConnection, council: Council) -> dict[str, Any] | None:
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom),"
            " ST_Area(geom::geography) / 1e6 FROM hromadas"
            " WHERE code = %s AND valid_to IS NULL",
            (council.code,),
        )
        row = await cur.fetchone()
    if row is None:
        return None
    return {"bbox": [round(float(v), 6) for v in row[:4]], "area_km2": round(float(row[4]), 1)}

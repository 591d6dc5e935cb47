"""Planar helpers for the demo city: seeded points in a polygon, k-means centres, and Voronoi
tilings clipped to a polygon.

Coordinates are EPSG:4326 lon/lat degrees. Distances are taken in a local equirectangular
frame (longitude scaled by cos of the polygon's mean latitude), which at Kyiv's size keeps
cells round instead of stretched east–west; the tiles themselves are cut in lon/lat.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

METRES_PER_DEGREE = 111_320.0


def lon_scale(geom: BaseGeometry) -> float:
    """cos(latitude) at the middle of `geom`: metres per degree of longitude / of latitude."""
    _, miny, _, maxy = geom.bounds
    return math.cos(math.radians((miny + maxy) / 2))


def random_points_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniformly distributed inside `geom` (rejection sampling in its bbox), (n, 2)."""
    shapely.prepare(geom)
    minx, miny, maxx, maxy = geom.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        batch = rng.uniform((minx, miny), (maxx, maxy), size=(max(2 * n, 64), 2))
        inside = shapely.contains_xy(geom, batch[:, 0], batch[:, 1])
        out = np.vstack([out, batch[inside]])
    return out[:n]


def kmeans_sites(points: np.ndarray, k: int, rng: np.random.Generator, kx: float,
                 iterations: int = 30) -> np.ndarray:  # fmt: skip
    """k sites that split `points` (lon/lat, (n, 2)) into groups of similar size and compact
    shape: Lloyd's k-means from a k-means++ start, each centre finally snapped to the nearest
    of its own points so that every site lies where the points are (inside their polygon).

    >>> pts = np.array([[0, 0], [0, 0.001], [1, 1], [1, 1.001]])
    >>> sorted(map(tuple, kmeans_sites(pts, 2, np.random.default_rng(1), 1.0).round(3)))
    [(0.0, 0.0), (1.0, 1.0)]
    """
    pts = np.unique(points, axis=0)  # sorted, no duplicates: the same sites whatever the order
    if len(pts) <= k:
        raise ValueError(f"{len(pts)} distinct points cannot make {k} sites")
    xy = pts * (kx, 1.0)
    centres = np.empty((k, 2))
    centres[0] = xy[rng.integers(len(xy))]
    d2 = ((xy - centres[0]) ** 2).sum(1)
    for j in range(1, k):  # k-means++: far points are likelier next centres
        centres[j] = xy[rng.choice(len(xy), p=d2 / d2.sum())]
        d2 = np.minimum(d2, ((xy - centres[j]) ** 2).sum(1))
    for _ in range(iterations):
        labels = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(2).argmin(1)
        counts = np.bincount(labels, minlength=k)
        for axis in (0, 1):
            sums = np.bincount(labels, weights=xy[:, axis], minlength=k)
            centres[:, axis] = np.where(counts > 0, sums / np.maximum(counts, 1), centres[:, axis])
    labels = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(2).argmin(1)
    sites = np.empty((k, 2))
    taken: set[int] = set()
    for j in range(k):
        own = np.flatnonzero(labels == j)
        if own.size == 0:
            own = np.arange(len(xy))
        order = own[np.argsort(((xy[own] - centres[j]) ** 2).sum(1), kind="stable")]
        pick = next(int(i) for i in order if int(i) not in taken)
        taken.add(pick)
        sites[j] = pts[pick]
    return sites


def polygonal(geom: BaseGeometry) -> MultiPolygon:
    """The polygonal part of `geom` as a MultiPolygon (intersections may add lines/points)."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    if not parts and isinstance(geom, MultiPolygon):
        parts = list(geom.geoms)
    return MultiPolygon(parts)


def voronoi_tiles(area: BaseGeometry, sites: np.ndarray) -> list[MultiPolygon]:
    """The Voronoi cells of `sites` (lon/lat, (k, 2), all inside `area`) clipped to `area`,
    in the order of `sites`. The tiles cover `area` exactly and overlap only along shared
    edges, up to floating-point noise."""
    kx = lon_scale(area)
    minx, miny, maxx, maxy = area.bounds
    pad = max(maxx - minx, maxy - miny)
    frame = shapely.box((minx - pad) * kx, miny - pad, (maxx + pad) * kx, maxy + pad)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(sites * (kx, 1.0)), extend_to=frame, ordered=True
    )
    tiles = []
    for cell in shapely.get_parts(cells):
        cell = shapely.transform(cell, lambda c: c / (kx, 1.0))
        tile = polygonal(shapely.intersection(area, cell))
        if tile.is_empty:
            raise ValueError("a Voronoi site lies outside the area it should tile")
        tiles.append(tile)
    if len(tiles) != len(sites):
        raise ValueError(f"{len(sites)} sites gave {len(tiles)} Voronoi cells")
    return tiles


def jitter(lon: np.ndarray, lat: np.ndarray, metres: np.ndarray | float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Points moved by a normal offset of `metres` standard deviation along each axis."""
    dy = rng.normal(0.0, 1.0, size=lon.shape) * metres
    dx = rng.normal(0.0, 1.0, size=lon.shape) * metres
    lat2 = lat + dy / METRES_PER_DEGREE
    lon2 = lon + dx / (METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return lon2, lat2

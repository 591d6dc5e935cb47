"""The real Kyiv reference data of shared/data, imported in dependency order (the city before
its districts, so each district finds its hromada)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from importers.pipeline import run_import
from importers.report import ImportFailed, ImportReport


@dataclass(frozen=True)
class ReferenceFile:
    pattern: str  # glob in the data folder; the last match in name order (newest date) wins
    layer: str
    title: str | None = None
    title_en: str | None = None
    description: str | None = None


REFERENCE_FILES = (
    ReferenceFile("kyiv_city_boundary_osm_*.geojson", "hromadas"),
    ReferenceFile("kyiv_districts_osm_*.geojson", "districts"),
    ReferenceFile("kyiv_streets_register.csv", "streets"),
    ReferenceFile("kyiv_1551_profile.json", "categories"),
    ReferenceFile(
        "kyiv_abandoned_buildings_osm_*.geojson", "abandoned_buildings",
        "Покинуті та непридатні будівлі", "Abandoned and unfit buildings",
        "Будівлі, визнані РДА покинутими або непридатними для проживання (OpenStreetMap, "
        "source:abandoned=rda).",
    ),
    ReferenceFile(
        "kyiv_osm_pois_*.geojson", "pois",
        "Точки інтересу (OpenStreetMap)", "Points of interest (OpenStreetMap)",
        "Аптеки, магазини, клініки, паркування, установи, школи з OpenStreetMap.",
    ),
)  # fmt: skip


def find_reference_file(shared_dir: Path, pattern: str) -> Path:
    matches = sorted(Path(shared_dir).glob(pattern))
    if not matches:
        raise ImportFailed(f"reference file {pattern} not found in {shared_dir}")
    return matches[-1]


def load_reference_data(url: str, shared_dir: Path) -> list[ImportReport]:
    """Import every reference file; each is its own transaction, and re-running reports
    everything unchanged."""
    reports = []
    for ref in REFERENCE_FILES:
        path = find_reference_file(shared_dir, ref.pattern)
        reports.append(
            run_import(url, path, ref.layer, title=ref.title, title_en=ref.title_en,
                       description=ref.description)
        )  # fmt: skip
    return reports

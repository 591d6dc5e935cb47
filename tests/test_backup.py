"""`hromada backup` / `hromada restore` (issue 18, slice A; gis/backup.py).

A small demo city with two appeals filed with photos (one published) and a permit document
is backed up, then restored into a fresh cluster of its own (another embedded data directory,
cleaned up afterwards): every table's count equals the source's, every photo and document is
there with the same hash, the audit chains verify, and the API on the restored copy serves
the published appeal and its photo. A truncated and a damaged copy of the archive are refused
with a message, nothing written; a restore over a non-empty database needs --force.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient
from PIL import Image

from api import create_app
from gis import backup, permit_documents
from gis.embedded import EmbeddedCluster, free_port
from gis.settings import Settings

HROMADA = str(Path(sys.executable).with_name("hromada"))
POINT = {"lon": 30.5234, "lat": 50.4501}
AUTHOR = {
    "full_name": "Коваленко Ірина Петрівна",
    "email": "iryna.kovalenko@example.com",
    "phone": "+380 67 765 43 21",
    "postal_address": "м. Київ, вул. Січових Стрільців, 12, кв. 3",
}
PDF = b"%PDF-1.4\n% hromada backup test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _jpeg(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def _files(root: Path) -> dict[str, str]:
    """relative path → SHA-256 of every photo and document under a data directory."""
    out = {}
    for sub in ("photos", "permit_documents"):
        for p in sorted((root / sub).rglob("*")) if (root / sub).exists() else []:
            if p.is_file():
                out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def source(server_url, template_url, shared_data, tmp_path_factory):
    """(database URL, data_dir, the published appeal's number, its photo's sha256)."""
    data_dir = tmp_path_factory.mktemp("backup-src")
    with demo_city(server_url, template_url, shared_data, "backup", seed=18, appeals=120,
                   now=None) as url:  # fmt: skip
        settings = Settings(database_url=url, data_dir=data_dir, rate_limits_enabled=False)
        with TestClient(create_app(settings)) as client:
            with psycopg.connect(url) as conn:
                sub = conn.execute(
                    "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                    " AND NOT needs_study ORDER BY id LIMIT 1"
                ).fetchone()[0]
            published = None
            for i, colour in enumerate([(200, 30, 30), (30, 30, 200)]):
                body = {"category": sub, "text": f"Зламана лавка у сквері, № {i}.",
                        "location": POINT, "author": AUTHOR, "consent_to_publish": i == 0}  # fmt: skip
                r = client.post(
                    "/api/v1/appeals",
                    data={"data": json.dumps(body, ensure_ascii=False)},
                    files=[("photos", (f"p{i}.jpg", _jpeg(colour), "image/jpeg"))],
                )
                assert r.status_code == 201, r.text
                if i == 0:
                    published = (r.json()["number"], r.json()["photos"][0]["sha256"])
        sha = hashlib.sha256(PDF).hexdigest()
        permit_documents.write_once(permit_documents.path_of(data_dir, sha, "application/pdf"), PDF)
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO permit_documents (layer, feature_id, filename, media_type, sha256,"
                " size) VALUES ('advertising_structures', 1, 'dozvil.pdf', 'application/pdf',"
                " %s, %s)",
                (sha, len(PDF)),
            )
        assert published
        yield url, data_dir, *published


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> tuple[Path, dict]:
    url, data_dir, _, _ = source
    path = tmp_path_factory.mktemp("backup-archive") / "hromada.tar"
    summary = backup.backup(url, data_dir, path)
    return path, summary


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A second embedded cluster, empty, archiving its WAL (HROMADA_WAL_ARCHIVE_DIR), destroyed
    afterwards."""
    base = tmp_path_factory.mktemp("backup-cluster")
    os.chmod(base, 0o755)
    cluster = EmbeddedCluster(base_dir=base / "c", port=free_port(), throwaway=True)
    cluster.wal_archive_dir = cluster.base_dir / "wal-archive"  # where `postgres` may write
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return backup.table_counts(conn)


def _cli(*args: str, url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HROMADA_DATABASE_URL=url, HROMADA_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    return subprocess.run([HROMADA, *args], env=env, capture_output=True, text=True, timeout=120)


def test_archive_holds_the_snapshot_and_its_files(source, archive):
    url, data_dir, _, _ = source
    path, summary = archive
    assert path.stat().st_mode & 0o777 == 0o600  # personal data inside
    with tarfile.open(path) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "database.pgdump" and names[-1] == "manifest.json"
    assert manifest["counts"] == _counts(url)
    assert manifest["counts"]["public.appeal_photos"] == 2
    assert manifest["files"] == {"photos": 2, "permit_documents": 1}
    assert {n[len("files/") :] for n in names if n.startswith("files/")} == set(_files(data_dir))
    assert summary["schema_revision"] and summary["damaged_files"] == []


def test_restore_into_a_fresh_cluster(source, archive, fresh, tmp_path):
    url, data_dir, number, photo_sha = source
    path, _ = archive
    target_dir = tmp_path / "restored"
    # Refused archives first: nothing written into the empty database or the data dir.
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    damaged = tmp_path / "damaged.tar"
    raw = bytearray(path.read_bytes())
    raw[2000] ^= 0xFF  # inside the dump's bytes
    damaged.write_bytes(bytes(raw))
    out = _cli("restore", str(truncated), url=fresh.url, data_dir=target_dir)
    assert out.returncode == 2 and "truncated" in out.stderr, out.stderr
    with pytest.raises(backup.BackupError, match="checksum mismatch in 1 member"):
        backup.restore(fresh.url, target_dir, damaged)
    assert backup._objects(fresh.url) == 0
    assert not target_dir.exists() or _files(target_dir) == {}

    out = _cli("restore", str(path), url=fresh.url, data_dir=target_dir)
    assert out.returncode == 0, out.stderr + out.stdout
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["audit_ok"] and summary["counts_differ"] == {}
    assert summary["files_written"] == 3
    assert _counts(fresh.url) == _counts(url)
    assert _files(target_dir) == _files(data_dir)
    assert _cli("audit", "verify", url=fresh.url, data_dir=target_dir).returncode == 0

    settings = Settings(database_url=fresh.url, data_dir=target_dir, rate_limits_enabled=False)
    with TestClient(create_app(settings)) as client:
        card = client.get(f"/api/v1/appeals/{number}")
        assert card.status_code == 200, card.text
        assert [p["url"] for p in card.json()["photos"]] == [f"/api/v1/photos/{photo_sha}"]
        picture = client.get(f"/api/v1/photos/{photo_sha}")
        assert picture.status_code == 200
        assert hashlib.sha256(picture.content).hexdigest() == photo_sha

    # Over a database that is no longer empty: refused, then --force replaces it.
    again = _cli("restore", str(path), url=fresh.url, data_dir=target_dir)
    assert again.returncode == 2 and "not empty" in again.stderr and "--force" in again.stderr
    forced = backup.restore(fresh.url, target_dir, path, force=True)
    assert forced["audit_ok"] and forced["counts_differ"] == {} and forced["files_written"] == 0


def test_the_embedded_cluster_archives_its_wal(fresh):
    """HROMADA_WAL_ARCHIVE_DIR (docs/PITR.md): a finished WAL segment lands in the archive."""
    assert fresh.configure_archiving() is False  # applied at start, unchanged since
    assert fresh.wal_archive_dir is not None
    with psycopg.connect(fresh.url, autocommit=True) as conn:
        assert conn.execute("SHOW archive_mode").fetchone() == ("on",)
        conn.execute("CREATE TABLE IF NOT EXISTS wal_probe (x int)")
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + 30
        while not (fresh.wal_archive_dir / segment).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        conn.execute("DROP TABLE wal_probe")
    assert (fresh.wal_archive_dir / segment).stat().st_size == 16 * 2**20

"""Point-in-time recovery drill (issue 18, slice A; docs/PITR.md): run it once, read its figures.

    .venv/bin/python bench/pitr_drill.py [--appeals 2000] [--before 40] [--after 25] [--keep]

1. A throwaway embedded cluster with WAL archiving (EmbeddedCluster.wal_archive_dir, what
   HROMADA_WAL_ARCHIVE_DIR does for the service's cluster), migrated, holding a demo city.
2. A base backup: `pg_basebackup -X stream -c fast`.
3. `--before` appeals filed through the API (with a photo each); the target time is taken.
4. The mistake after it: `--after` more appeals, then `DROP TABLE kiosks CASCADE`. The WAL
   is switched and archived (`pg_switch_wal()`, waiting on pg_stat_archiver).
5. The first cluster is stopped (lost); a second one is made from the base backup alone with
   `restore_command` (copy from the archive), `recovery_target_time`, `recovery_target_action
   = promote` and `recovery.signal`, and started: PostgreSQL replays the archived WAL up to the
   target and opens read-write.
6. Checked: the appeals are those of the target (base + before, none of after), the kiosks
   table is back, the audit chains verify. Figures: times, counts, WAL archived.

Everything lives in a temporary directory removed at the end (--keep leaves it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gis.embedded import EmbeddedCluster, free_port  # noqa: E402

POINT = {"lon": 30.5234, "lat": 50.4501}
AUTHOR = {
    "full_name": "Шевченко Марія Іванівна",
    "email": "maria.shevchenko@example.com",
    "phone": "+380 67 111 22 33",
    "postal_address": "м. Київ, вул. Хрещатик, 1, кв. 1",
}


def one(url: str, query: str):
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return row[0]


def file_appeals(url: str, data_dir: Path, n: int, tag: str) -> float:
    """n appeals through the API (multipart, a photo each); seconds taken."""
    from fastapi.testclient import TestClient
    from PIL import Image

    from api import create_app
    from gis.settings import Settings

    category = one(url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                        " AND NOT needs_study ORDER BY id LIMIT 1")  # fmt: skip
    started = time.monotonic()
    settings = Settings(database_url=url, data_dir=data_dir, rate_limits_enabled=False)
    with TestClient(create_app(settings)) as client:
        for i in range(n):
            picture = io.BytesIO()
            Image.new("RGB", (32, 24), (i % 255, 80, 160)).save(picture, "JPEG")
            body = {"category": category, "text": f"Звернення {tag} № {i}: не світить ліхтар.",
                    "location": POINT, "author": AUTHOR, "consent_to_publish": True}  # fmt: skip
            r = client.post(
                "/api/v1/appeals",
                data={"data": json.dumps(body, ensure_ascii=False)},
                files=[("photos", (f"{tag}{i}.jpg", picture.getvalue(), "image/jpeg"))],
            )
            assert r.status_code == 201, r.text
    return time.monotonic() - started


def wait_archived(url: str, timeout: float = 60) -> str:
    """Switch to a new WAL segment and wait until the finished one is in the archive."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
        assert row is not None
        segment = row[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()
            if done and done[0] and done[0] >= segment:
                return segment
            time.sleep(0.2)
    raise RuntimeError(f"WAL segment {segment} was not archived within {timeout} s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--appeals", type=int, default=2000, help="the demo city's appeals")
    p.add_argument("--before", type=int, default=40, help="appeals filed before the target")
    p.add_argument("--after", type=int, default=25, help="appeals filed after the target")
    p.add_argument("--keep", action="store_true", help="leave the temporary directory")
    args = p.parse_args()

    from gis.audit import verify
    from gis.migrate import upgrade
    from gis.settings import get_settings
    from importers.demo import generate

    base = Path(tempfile.mkdtemp(prefix="hromada-pitr-"))
    os.chmod(base, 0o755)
    archive = base / "wal-archive"
    primary = EmbeddedCluster(base_dir=base / "primary", port=free_port(),
                              wal_archive_dir=archive)  # fmt: skip
    recovered = EmbeddedCluster(base_dir=base / "recovered", port=free_port())
    figures: dict = {}
    try:
        t = time.monotonic()
        primary.start()
        upgrade(primary.url)
        generate(primary.url, seed=18, appeals=args.appeals, shared_dir=get_settings().shared_data)
        figures["demo_load_s"] = round(time.monotonic() - t, 1)
        figures["appeals_at_base_backup"] = base_count = one(
            primary.url, "SELECT count(*) FROM appeals"
        )

        # 2. The base backup, into the directory the recovered cluster will run from.
        recovered.base_dir.mkdir(parents=True)
        os.chmod(recovered.base_dir, 0o755)
        recovered._own(recovered.base_dir)
        t = time.monotonic()
        primary._run("pg_basebackup", "-d", primary.url, "-D", str(recovered.pgdata),
                     "-X", "stream", "-c", "fast")  # fmt: skip
        figures["base_backup_s"] = round(time.monotonic() - t, 2)
        figures["base_backup_mb"] = round(
            sum(f.stat().st_size for f in recovered.pgdata.rglob("*") if f.is_file()) / 2**20, 1
        )

        # 3. Writes before the target.
        figures["file_before_s"] = round(
            file_appeals(primary.url, base / "data", args.before, "до"), 2
        )
        before_count = one(primary.url, "SELECT count(*) FROM appeals")
        target = one(primary.url, "SELECT now()")
        figures["target_time"] = target.astimezone(dt.UTC).isoformat()
        figures["appeals_at_target"] = before_count
        time.sleep(1.1)

        # 4. The mistake after it.
        file_appeals(primary.url, base / "data", args.after, "після")
        after_count = one(primary.url, "SELECT count(*) FROM appeals")
        with psycopg.connect(primary.url, autocommit=True) as conn:
            conn.execute("DROP TABLE kiosks CASCADE")
        figures["appeals_after_mistake"] = after_count
        figures["kiosks_after_mistake"] = one(primary.url, "SELECT to_regclass('kiosks')::text")
        figures["last_segment"] = wait_archived(primary.url)
        wal = [f for f in archive.iterdir() if f.is_file()]
        figures["wal_archived_files"] = len(wal)
        figures["wal_archived_mb"] = round(sum(f.stat().st_size for f in wal) / 2**20, 1)
        primary.stop()  # the server is lost; the base backup and the archive are what is left

        # 5. Recovery to the target time.
        conf = recovered.pgdata / "postgresql.auto.conf"
        with open(conf, "a") as f:
            f.write(
                f"port = {recovered.port}\n"
                f"unix_socket_directories = '{recovered.pgdata}'\n"
                "archive_mode = off\n"
                f"restore_command = 'cp {archive}/%f %p'\n"
                f"recovery_target_time = '{figures['target_time']}'\n"
                "recovery_target_action = 'promote'\n"
            )
        signal = recovered.pgdata / "recovery.signal"
        signal.touch()
        recovered._own(signal)
        t = time.monotonic()
        recovered.start()  # returns once it accepts connections (read-only while replaying)
        deadline = time.monotonic() + 300
        while one(recovered.url, "SELECT pg_is_in_recovery()"):
            if time.monotonic() > deadline:
                raise RuntimeError("recovery did not end within 300 s")
            time.sleep(0.1)
        figures["recovery_s"] = round(time.monotonic() - t, 2)

        # 6. What came back.
        url = recovered.url
        got = one(url, "SELECT count(*) FROM appeals")
        figures["appeals_recovered"] = got
        figures["kiosks_recovered"] = one(url, "SELECT count(*) FROM kiosks")
        figures["in_recovery"] = one(url, "SELECT pg_is_in_recovery()")
        figures["timeline"] = one(url, "SELECT timeline_id FROM pg_control_checkpoint()")
        with psycopg.connect(url) as conn:
            audit = verify(conn)
        figures["audit_ok"] = bool(audit["ok"])
        log = recovered.logfile.read_text(errors="replace").splitlines()
        figures["recovery_log"] = [
            ln.split("LOG:  ", 1)[-1] for ln in log if "recovery" in ln and "LOG:" in ln
        ][-3:]
        ok = (
            got == before_count
            and got == base_count + args.before
            and figures["audit_ok"]
            and not figures["in_recovery"]
        )
        figures["ok"] = ok
        print(json.dumps(figures, ensure_ascii=False, indent=1, default=str))
        return 0 if ok else 1
    finally:
        recovered.stop()
        primary.stop()
        if args.keep:
            print(f"kept: {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""`hromada backup FILE` and `hromada restore FILE`: the whole state in one archive.

**What an archive holds.** One plain tar (mode 0600: it holds personal data):

- `database.pgdump` — `pg_dump -Fc` of the database, taken from a snapshot exported by a
  REPEATABLE READ transaction (`pg_export_snapshot()`), with Debian's PostgreSQL client
  programs (gis/embedded.find_postgres_bindir, so 15 against a 15 server);
- `files/photos/<sha[:2]>/<sha>.<ext>` and `files/permit_documents/…` — exactly the files the
  rows *of that snapshot* name (appeal_photos, permit_documents);
- `manifest.json`, last — format and version, the snapshot's time, the schema's Alembic
  revision, the row count of every table in the snapshot, and each member's size and SHA-256.

**Consistency.** Files are content-addressed and written before the row naming them commits
(gis/intake.py, gis/permit_documents.py), so a row of the snapshot always has its file; a
photo stored after the snapshot is simply not referenced, hence not taken. Photos are never
deleted while a row names them; a permit document's file is deleted (after its row) under
`pg_advisory_xact_lock(hashtextextended(sha, 16))`, which the backup takes too (shared)
before copying, so a file cannot vanish under it. Should one still be missing, the backup
fails rather than write an archive whose rows name a file it lacks.

**Restore.** The whole archive is checked first — every member present, sizes and SHA-256
equal to the manifest's, no stray member, the dump's table of contents readable, the schema's
revision known to this code — and only then is anything written: a corrupt or truncated
archive is refused with a message naming what is wrong. The target database (DATABASE_URL,
or the embedded cluster's) must be empty; `--force` drops and recreates it. Then
`pg_restore`, the files into `data_dir` (atomically, by their hash), an upgrade to the code's
head when the archive's schema is older, the row counts compared with the manifest's and the
audit chains verified (gis/audit.verify).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gis import permit_documents, photos
from gis.db import libpq_url

FORMAT = "hromada-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.pgdump"
FILES = "files/"
# the only names a file member may have (never a path outside data_dir)
FILE_NAME = re.compile(
    r"files/(photos|permit_documents)/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|pdf)"
)
CHUNK = 1024 * 1024
# content type of a photo → its file's extension (gis/photos.py)
PHOTO_EXT = {ctype: ext for ctype, ext in photos.FORMATS.values()}


class BackupError(RuntimeError):
    """A backup or a restore refused; the message says why (and nothing was written)."""


# --- helpers ----------------------------------------------------------------------------


def _bindir() -> Path:
    from gis.embedded import ensure_binaries

    return ensure_binaries()


def _run(program: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(_bindir() / program), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(
            f"{program} failed ({result.returncode}): {result.stderr.strip()[-1500:]}"
        )
    return result


def _other_db(url: str, dbname: str) -> str:
    return make_conninfo(libpq_url(url), dbname=dbname)


def _one(conn: psycopg.Connection, query: Any, params: Any = None) -> tuple:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return tuple(row)


def _dbname(url: str) -> str:
    return str(conninfo_to_dict(libpq_url(url)).get("dbname") or "")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


COUNT_TABLES_SQL = """
SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1, 2
"""


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of every table (partitioned ones as a whole), keyed `schema.table`."""
    out = {}
    for schema, table in conn.execute(COUNT_TABLES_SQL).fetchall():
        ident = sql.Identifier(schema, table)
        query = sql.SQL("SELECT count(*) FROM {}").format(ident)
        out[f"{schema}.{table}"] = _one(conn, query)[0]
    return out


def _referenced_files(conn: psycopg.Connection, data_dir: Path) -> list[tuple[str, Path, str]]:
    """(archive name, path on disk, sha256 of the name) of every file a row names."""
    out = []
    for sha, ctype in conn.execute(
        "SELECT DISTINCT sha256, content_type FROM appeal_photos ORDER BY 1, 2"
    ).fetchall():
        path = photos.path_of(data_dir, sha, PHOTO_EXT.get(ctype, "jpg"))
        out.append((FILES + path.relative_to(data_dir).as_posix(), path, sha))
    for sha, media_type in conn.execute(
        "SELECT DISTINCT sha256, media_type FROM permit_documents ORDER BY 1, 2"
    ).fetchall():
        path = permit_documents.path_of(data_dir, sha, media_type)
        out.append((FILES + path.relative_to(data_dir).as_posix(), path, sha))
    return out


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.sha = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, fileobj: IO[bytes], size: int, mtime: float) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    hashing = _Hashing(fileobj)
    tar.addfile(info, hashing)
    return hashing.sha.hexdigest()


# --- backup -----------------------------------------------------------------------------


def backup(url: str, data_dir: Path, target: Path) -> dict[str, Any]:
    """Write the archive `target` (atomically: a partial file renamed at the end); the
    manifest, with `seconds` and `bytes` added, is returned."""
    started = time.monotonic()
    url, data_dir, target = libpq_url(url), Path(data_dir), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with (
        tempfile.TemporaryDirectory(prefix="hromada-backup-") as tmp,
        psycopg.connect(url) as conn,
    ):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = _one(conn, "SELECT pg_export_snapshot()")[0]
        created_at, server_version = _one(conn, "SELECT now(), current_setting('server_version')")
        dump = Path(tmp) / DUMP
        # The dump imports the snapshot while this transaction holds it open.
        _run("pg_dump", "-Fc", "-Z", "6", f"--snapshot={snapshot}", "-f", str(dump),
             "--dbname", url)  # fmt: skip
        revision = None
        if _one(conn, "SELECT to_regclass('public.alembic_version')")[0]:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        counts = table_counts(conn)
        files = _referenced_files(conn, data_dir)
        # A permit document's file is unlinked under this lock (exclusive); holding it shared
        # until the copy is done keeps every file of the snapshot in place.
        for _, _, sha in files:
            conn.execute("SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 16))", (sha,))
        missing = [str(path) for _, path, _ in files if not path.is_file()]
        if missing:
            raise BackupError(
                f"{len(missing)} file(s) named by the database are not in {data_dir}: "
                + ", ".join(missing[:5])
                + " — is HROMADA_DATA_DIR the service's? No archive was written."
            )
        members: dict[str, dict[str, Any]] = {}
        damaged = []
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w") as tar:
                with open(dump, "rb") as f:
                    size = dump.stat().st_size
                    members[DUMP] = {"size": size, "sha256": _add(tar, DUMP, f, size, time.time())}
                taken = {"photos": 0, "permit_documents": 0}
                for name, path, sha in files:
                    if name in members:
                        continue
                    with open(path, "rb") as f:
                        st = os.fstat(f.fileno())
                        digest = _add(tar, name, f, st.st_size, st.st_mtime)
                    members[name] = {"size": st.st_size, "sha256": digest}
                    taken[name.split("/")[1]] += 1
                    if digest != sha:
                        damaged.append(name)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": created_at.astimezone(dt.UTC).isoformat(),
                    "database": _dbname(url),
                    "server_version": server_version,
                    "schema_revision": revision,
                    "counts": counts,
                    "files": taken,
                    "damaged_files": damaged,
                    "members": members,
                }
                body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                _add(tar, MANIFEST, io.BytesIO(body), len(body), time.time())
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    summary = {k: v for k, v in manifest.items() if k != "members"}
    summary["members"] = len(members)
    summary["bytes"] = target.stat().st_size
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary


# --- checking an archive ---------------------------------------------------------------


@dataclass
class Checked:
    """An archive found whole: its manifest and its dump, extracted to a temporary file."""

    manifest: dict[str, Any]
    dump: Path
    files: list[str] = field(default_factory=list)


def _known_revision(revision: str | None) -> tuple[bool, str | None]:
    """(is `revision` one of this code's migrations, this code's head)."""
    from alembic.script import ScriptDirectory

    from gis.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    head = script.get_current_head()
    if revision is None:
        return True, head
    try:
        return script.get_revision(revision) is not None, head
    except Exception:
        return False, head


@contextmanager
def checked(archive: Path) -> Iterator[Checked]:
    """Read the whole archive and check it against its manifest; BackupError naming the
    fault otherwise. The dump lives in a temporary directory for the `with` block."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    with tempfile.TemporaryDirectory(prefix="hromada-restore-") as tmp:
        dump = Path(tmp) / DUMP
        seen: dict[str, dict[str, Any]] = {}
        manifest_bytes = None
        try:
            with tarfile.open(archive, mode="r:") as tar:
                for member in tar:
                    if not member.isfile():
                        raise BackupError(f"{archive}: unexpected member {member.name!r}")
                    src = tar.extractfile(member)
                    assert src is not None
                    if member.name == MANIFEST:
                        manifest_bytes = src.read()
                        continue
                    sha, size = hashlib.sha256(), 0
                    sink = open(dump, "wb") if member.name == DUMP else None
                    try:
                        while chunk := src.read(CHUNK):
                            sha.update(chunk)
                            size += len(chunk)
                            if sink:
                                sink.write(chunk)
                    finally:
                        if sink:
                            sink.close()
                    if size != member.size:
                        raise BackupError(f"{archive}: the archive is truncated (in {member.name})")
                    seen[member.name] = {"size": size, "sha256": sha.hexdigest()}
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(
                f"{archive}: not a readable backup archive (truncated or damaged: {exc})"
            ) from exc
        if manifest_bytes is None:
            raise BackupError(f"{archive}: no manifest — the archive is truncated or not a backup")
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            raise BackupError(f"{archive}: the manifest is damaged ({exc})") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive}: not a {FORMAT} archive")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"{archive}: archive format {manifest.get('format_version')} is not "
                f"{FORMAT_VERSION}, the one this code reads"
            )
        expected: dict[str, dict[str, Any]] = manifest.get("members") or {}
        absent = sorted(set(expected) - set(seen))
        if absent:
            raise BackupError(
                f"{archive}: the archive is truncated or incomplete: {len(absent)} member(s) "
                f"missing, e.g. {absent[0]}"
            )
        odd = [n for n in expected if n != DUMP and not FILE_NAME.fullmatch(n)]
        if odd:
            raise BackupError(f"{archive}: a member named {odd[0]!r} is not allowed")
        stray = sorted(set(seen) - set(expected))
        if stray:
            raise BackupError(f"{archive}: member(s) not in the manifest, e.g. {stray[0]}")
        bad = [n for n in sorted(expected) if seen[n] != expected[n]]
        if bad:
            raise BackupError(
                f"{archive}: checksum mismatch in {len(bad)} member(s), e.g. {bad[0]} — "
                "the archive is damaged"
            )
        if DUMP not in seen:
            raise BackupError(f"{archive}: no database dump in the archive")
        known, head = _known_revision(manifest.get("schema_revision"))
        if not known:
            raise BackupError(
                f"{archive}: its schema revision {manifest.get('schema_revision')} is newer than "
                f"this code's (head {head}): restore it with the code it was made by or newer"
            )
        _run("pg_restore", "--list", str(dump))
        yield Checked(manifest, dump, [n for n in expected if n.startswith(FILES)])


# --- restore ----------------------------------------------------------------------------

EMPTY_SQL = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype = 'e')
"""


def _objects(url: str) -> int:
    with psycopg.connect(url) as conn:
        return _one(conn, EMPTY_SQL)[0]


def _recreate(url: str) -> None:
    name = _dbname(url)
    if not name:
        raise BackupError("the database URL names no database")
    with psycopg.connect(_other_db(url, "postgres"), autocommit=True) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def _write_files(archive: Path, names: list[str], expected: dict, data_dir: Path) -> int:
    wanted, written = set(names), 0
    with tarfile.open(archive, mode="r:") as tar:
        for member in tar:
            if member.name not in wanted:
                continue
            src = tar.extractfile(member)
            assert src is not None
            data = src.read()
            if hashlib.sha256(data).hexdigest() != expected[member.name]["sha256"]:
                raise BackupError(f"{archive}: {member.name} changed while being restored")
            path = data_dir / member.name[len(FILES) :]
            if photos.write_once(path, data) is not None:
                written += 1
    return written


def restore(url: str, data_dir: Path, archive: Path, *, force: bool = False) -> dict[str, Any]:
    """Bring an archive back into the database of `url` and the files into `data_dir`.
    BackupError, with nothing written, when the archive is not whole or the database is not
    empty (without `force`)."""
    from gis.audit import verify
    from gis.migrate import upgrade

    started = time.monotonic()
    url, data_dir, archive = libpq_url(url), Path(data_dir), Path(archive)
    with checked(archive) as ok:
        objects = _objects(url)
        if objects and not force:
            raise BackupError(
                f"the database {_dbname(url)!r} is not empty ({objects} tables, views or "
                "sequences): restore into an empty one, or give --force to drop and recreate it"
            )
        if objects:
            _recreate(url)
        jobs = str(max(1, min(4, os.cpu_count() or 1)))
        _run("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-j", jobs,
             "--dbname", url, str(ok.dump))  # fmt: skip
        manifest = ok.manifest
        written = _write_files(archive, ok.files, manifest["members"], data_dir)
    with psycopg.connect(url) as conn:
        counts = table_counts(conn)
    differ = {
        t: {"archive": n, "restored": counts.get(t)}
        for t, n in manifest["counts"].items()
        if counts.get(t) != n
    }
    revision = manifest.get("schema_revision")
    _, head = _known_revision(revision)
    upgraded = False
    if revision is not None and revision != head:
        upgrade(url)
        upgraded = True
    with psycopg.connect(url) as conn:
        audit = verify(conn)
    return {
        "archive": str(archive),
        "created_at": manifest["created_at"],
        "schema_revision": revision,
        "upgraded_to": head if upgraded else None,
        "tables": len(counts),
        "rows": sum(counts.values()),
        "counts_differ": differ,
        "files": len(ok.files),
        "files_written": written,
        "audit_ok": bool(audit["ok"]),
        "audit_events": audit.get("events"),
        "audit_broken": None if audit["ok"] else str(audit["broken"]),
        "seconds": round(time.monotonic() - started, 2),
    }

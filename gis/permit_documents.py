"""The files of a permit (issue 16, item 1): the scanned permit, its annexes, a photo of the
structure — kept beside an advertising structure or a kiosk for planners and administrators.

- **Checking.** A file is taken by its content, never by its name or the client's declared
  type: it must begin as a PDF (`%PDF-`), a JPEG (FF D8 FF) or a PNG (its 8-byte signature);
  anything else is 400 `document_type_unsupported`. At most `permit_document_max_bytes`
  (settings, 10 MB) each — 413 `document_too_large` — and `MAX_PER_FEATURE` (20) per
  feature — 409 `too_many_documents`. Unlike an appeal's photo the file is kept as sent (a
  permit is a record: its bytes are what was signed).
- **Names.** The name the client gave, without any folder part, trimmed to
  `MAX_NAME_CHARS`; a control character is 400 `invalid_characters` (gis/values.py); a name
  whose extension is not its type's gets that extension added. It is only ever sent back as
  a download's RFC 6266 name, never used as a path.
- **Storage.** `<data_dir>/permit_documents/<sha256[:2]>/<sha256>.<ext>`, written atomically
  by gis/photos.write_once: the same file attached twice is stored once. A file is deleted
  when its last row goes; both steps hold a transaction-level advisory lock on the hash, so
  an attachment of the same bytes at that moment never loses its file.
- **The feature.** It must exist and not be retired (404 `feature_not_found`; its documents
  are out of reach with it). Adding or removing a document writes the feature's audit trail
  (`document_added`, `document_removed`: filename, sha256, size) and touches the layer's
  `layers.last_updated`, but does NOT bump the feature's `version`: a form opened on the
  feature stays current when a file is attached beside it.
- **Councils** (issue 17): a planner or administrator bound to a council reaches the
  documents of that council's structures only (`actor`); another council's feature or
  document is 404, as if it did not exist (gis/placement.editor_councils). `actor` None: any.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, sql

from gis.audit import record_feature_change
from gis.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from gis.photos import write_once
from gis.placement import EDITABLE, editor_councils
from gis.values import ID, bad_character

MAX_PER_FEATURE = 20
MAX_NAME_CHARS = 200
# media type → file extension, and the other extensions a name of that type may end with.
TYPES = {
    "application/pdf": ("pdf", ("pdf",)),
    "image/jpeg": ("jpg", ("jpg", "jpeg")),
    "image/png": ("png", ("png",)),
}
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Document:
    """A checked file, ready to be stored."""

    data: bytes
    filename: str
    media_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def documents_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "permit_documents"


def path_of(data_dir: Path, sha256: str, media_type: str) -> Path:
    assert SHA256.fullmatch(sha256), sha256
    return documents_dir(data_dir) / sha256[:2] / f"{sha256}.{TYPES[media_type][0]}"


def sniff(data: bytes) -> str | None:
    """The media type the bytes begin as (PDF, JPEG, PNG), None for anything else."""
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    return None


def clean_filename(name: str | None, media_type: str) -> str:
    """The name to keep: no folder part, no control characters (400), at most MAX_NAME_CHARS,
    ending with an extension of its type."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    char = bad_character(name)
    if char is not None:
        raise InvalidInput("invalid_characters", parameter="file", character=char)
    name = name.lstrip(".").strip()
    ext, accepted = TYPES[media_type]
    stem, dot, given = name.rpartition(".")
    if not (dot and stem and given.lower() in accepted):
        stem, given = name, ext
    stem = stem[: MAX_NAME_CHARS - len(given) - 1].rstrip() or "document"
    return f"{stem}.{given}"


def check(data: bytes, name: str | None, *, max_bytes: int) -> Document:
    """An uploaded file checked by its content and size; InvalidInput, PayloadTooLarge."""
    shown = (name or "").replace("\\", "/").rsplit("/", 1)[-1][:100]
    if bad_character(shown):
        shown = "?"
    if len(data) > max_bytes:
        raise PayloadTooLarge("document_too_large", parameter="file", name=shown,
                              max_mb=f"{max_bytes / 1024 / 1024:g}")  # fmt: skip
    media_type = sniff(data)
    if media_type is None:
        raise InvalidInput("document_type_unsupported", parameter="file", name=shown)
    filename = clean_filename(name, media_type)
    return Document(data, filename, media_type, hashlib.sha256(data).hexdigest())


# --- the database ------------------------------------------------------------------------------


def _fid(feature_id: Any) -> int | None:
    text = str(feature_id)
    if not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    number = int(text)
    return number if ID[0] <= number <= ID[1] else None


async def _feature(
    conn: AsyncConnection, layer: str, feature_id: Any, *, lock: bool, actor: Any = None
) -> int:
    """The id of a current (not retired) structure or kiosk of `actor`'s councils; NotFound
    otherwise."""
    fid = _fid(feature_id) if layer in EDITABLE else None
    row = None
    if fid is not None:
        query = sql.SQL(
            "SELECT id FROM {} WHERE id = %s AND retired_at IS NULL"
            " AND (%s::int[] IS NULL OR council_id = ANY(%s::int[])){}"
        ).format(sql.Identifier(layer), sql.SQL(" FOR SHARE") if lock else sql.SQL(""))
        councils = editor_councils(actor)
        row = await (await conn.execute(query, (fid, councils, councils))).fetchone()
    if row is None:
        raise NotFound("feature_not_found", collection=layer[:64], feature_id=str(feature_id)[:64])
    return row[0]


_COLUMNS = """
SELECT d.id, d.layer, d.feature_id, d.filename, d.media_type, d.sha256, d.size, d.uploaded_at,
       u.full_name AS uploaded_by
  FROM permit_documents d LEFT JOIN users u ON u.id = d.uploaded_by
"""
_KEYS = ("id", "layer", "feature_id", "filename", "media_type", "sha256", "size", "uploaded_at",
         "uploaded_by")  # fmt: skip


def _row(row: tuple) -> dict[str, Any]:
    return dict(zip(_KEYS, row, strict=True))


async def list_documents(
    conn: AsyncConnection, layer: str, feature_id: Any, actor: Any = None
) -> list[dict]:
    """The documents of a current feature (of `actor`'s councils: its `council_id`), oldest
    first."""
    fid = await _feature(conn, layer, feature_id, lock=False, actor=actor)
    cur = await conn.execute(
        _COLUMNS + " WHERE d.layer = %s AND d.feature_id = %s ORDER BY d.uploaded_at, d.id",
        (layer, fid),
    )
    return [_row(r) for r in await cur.fetchall()]


async def get(conn: AsyncConnection, doc_id: int, *, lock: bool = False, actor: Any = None) -> dict:
    """A document of a current feature; NotFound otherwise (a retired feature's too, and one
    of a council_id not `actor`'s)."""
    row = None
    if ID[0] <= doc_id <= ID[1]:
        query = _COLUMNS + " WHERE d.id = %s" + (" FOR UPDATE OF d" if lock else "")
        row = await (await conn.execute(query, (doc_id,))).fetchone()
    if row is None:
        raise NotFound("document_not_found", id=doc_id)
    doc = _row(row)
    try:
        await _feature(conn, doc["layer"], doc["feature_id"], lock=lock, actor=actor)
    except NotFound:
        raise NotFound("document_not_found", id=doc_id) from None
    return doc


async def read(
    conn: AsyncConnection, data_dir: Path, doc_id: int, actor: Any = None
) -> tuple[dict, Path]:
    """A document (of `actor`'s councils) and the path of its stored file; NotFound when
    either is missing."""
    doc = await get(conn, doc_id, actor=actor)
    path = path_of(data_dir, doc["sha256"], doc["media_type"])
    if not path.is_file():
        raise NotFound("document_not_found", id=doc_id)
    return doc, path


def _trail(doc: dict) -> dict:
    return {"filename": doc["filename"], "sha256": doc["sha256"], "size": doc["size"]}


async def _audit(conn, layer: str, fid: int, actor: Any, action: str, old, new) -> None:
    from gis.lifecycle import actor_label  # the appeals' trail names its actors the same way

    await record_feature_change(
        conn, layer=layer, feature_id=fid, actor=actor_label(actor),
        actor_user_id=getattr(actor, "user_id", None), action=action, old=old, new=new,
    )  # fmt: skip


async def _touch_layer(conn: AsyncConnection, layer: str) -> None:
    await conn.execute("UPDATE layers SET last_updated = now() WHERE name = %s", (layer,))


async def _lock_file(conn: AsyncConnection, sha256: str) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))", (sha256,))


async def add(conn: AsyncConnection, data_dir: Path, layer: str, feature_id: Any,
              document: Document, actor: Any) -> dict:  # fmt: skip
    """Attach a checked file to a current feature: stored, listed, in the audit trail."""
    async with conn.transaction():
        fid = await _feature(conn, layer, feature_id, lock=True, actor=actor)
        # One attachment at a time per feature, so that the count holds.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 16))", (f"{layer}/{fid}",)
        )
        count = await (
            await conn.execute(
                "SELECT count(*) FROM permit_documents WHERE layer = %s AND feature_id = %s",
                (layer, fid),
            )
        ).fetchone()
        assert count is not None
        if count[0] >= MAX_PER_FEATURE:
            raise Conflict("too_many_documents", count=count[0], max=MAX_PER_FEATURE)
        await _lock_file(conn, document.sha256)
        row = await (
            await conn.execute(
                "INSERT INTO permit_documents"
                " (layer, feature_id, filename, media_type, sha256, size, uploaded_by)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    layer,
                    fid,
                    document.filename,
                    document.media_type,
                    document.sha256,
                    document.size,
                    getattr(actor, "user_id", None),
                ),
            )  # fmt: skip
        ).fetchone()
        assert row is not None
        path = path_of(data_dir, document.sha256, document.media_type)
        await asyncio.to_thread(write_once, path, document.data)
        doc = await get(conn, row[0])
        await _audit(conn, layer, fid, actor, "document_added", None, _trail(doc))
        await _touch_layer(conn, layer)
    return doc


async def remove(conn: AsyncConnection, data_dir: Path, doc_id: int, actor: Any) -> None:
    """Detach a document; its file goes when no other document has the same bytes."""
    async with conn.transaction():
        doc = await get(conn, doc_id, lock=True, actor=actor)
        await conn.execute("DELETE FROM permit_documents WHERE id = %s", (doc_id,))
        await _audit(conn, doc["layer"], doc["feature_id"], actor, "document_removed",
                     _trail(doc), None)  # fmt: skip
        await _touch_layer(conn, doc["layer"])
    async with conn.transaction():
        await _lock_file(conn, doc["sha256"])
        left = await (
            await conn.execute(
                "SELECT 1 FROM permit_documents WHERE sha256 = %s AND media_type = %s LIMIT 1",
                (doc["sha256"], doc["media_type"]),
            )
        ).fetchone()
        if left is None:
            path_of(data_dir, doc["sha256"], doc["media_type"]).unlink(missing_ok=True)

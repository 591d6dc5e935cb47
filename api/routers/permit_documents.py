"""The planners' workbench: the files of a permit (issue 16, item 1) — planners and
administrators, with the portal's cookie session (and its CSRF token on POST and DELETE) or a
tool's bearer token.

    GET    /api/v1/planner/{layer}/{feature_id}/documents   the feature's documents
    POST   /api/v1/planner/{layer}/{feature_id}/documents   multipart `file` → 201, the document
    GET    /api/v1/planner/documents/{doc_id}               the file, as an attachment
    DELETE /api/v1/planner/documents/{doc_id}               → 204

The checks, the storage and the audit trail are gis/permit_documents.py's.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.datastructures import UploadFile

from api import schemas
from api.bodies import read_form
from api.deps import ConnDep, SettingsDep
from api.policy import Principal, allow
from api.urls import path_for
from gis import permit_documents as documents
from gis.errors import InvalidInput

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

EditorDep = Annotated[Principal, allow("planner", "admin")]


def _out(request: Request, doc: dict[str, Any]) -> dict[str, Any]:
    """A document as the API shows it: its row (layer, feature, name, type, size, hash, when
    and by whom) and where it is downloaded from."""
    return {**doc, "url": path_for(request, "permit_document", doc_id=doc["id"])}


def content_disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name and the UTF-8 one (RFC 5987 `filename*`)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/{layer}/{feature_id}/documents",
    response_model=schemas.PermitDocuments,
    name="permit_documents",
    summary="Документи дозволу об’єкта",
)
async def list_documents(
    request: Request, layer: str, feature_id: str, principal: EditorDep, conn: ConnDep,
    settings: SettingsDep,
) -> dict[str, Any]:  # fmt: skip
    """The files of a structure's or a kiosk's permit, oldest first (404 for a retired one)."""
    items = await documents.list_documents(conn, layer, feature_id, principal)
    return {
        "items": [_out(request, d) for d in items],
        "max_documents": documents.MAX_PER_FEATURE,
        "max_bytes": settings.permit_document_max_bytes,
    }


@router.post(
    "/{layer}/{feature_id}/documents",
    response_model=schemas.PermitDocument,
    status_code=201,
    name="permit_document_add",
    summary="Додати документ дозволу (PDF, JPEG, PNG)",
    openapi_extra=schemas.DOCUMENT_BODY,
)
async def add_document(
    request: Request, layer: str, feature_id: str, principal: EditorDep, conn: ConnDep,
    settings: SettingsDep,
) -> JSONResponse:  # fmt: skip
    """One file in the multipart field `file`: a PDF, JPEG or PNG by its content, at most
    10 MB, at most 20 per feature. The feature's version does not change."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise InvalidInput("document_file_required", parameter="file")
    form = await read_form(request, max_files=2, max_fields=5, files_field="file",
                           files_allowed=1)  # fmt: skip
    try:
        uploads = form.getlist("file")
        if len(uploads) != 1 or not isinstance(uploads[0], UploadFile):
            raise InvalidInput("document_file_required", parameter="file")
        upload = uploads[0]
        data = await upload.read(settings.permit_document_max_bytes + 1)
        document = documents.check(
            data, upload.filename, max_bytes=settings.permit_document_max_bytes
        )
    finally:
        await form.close()
    doc = await documents.add(conn, settings.data_dir, layer, feature_id, document, principal)
    body = schemas.PermitDocument.model_validate(_out(request, doc)).model_dump(mode="json")
    return JSONResponse(
        body, status_code=201, headers={"Location": path_for(request, "permit_document",
                                                             doc_id=doc["id"])},
    )  # fmt: skip


@router.get(
    "/documents/{doc_id}",
    response_class=Response,
    responses=schemas.DOCUMENT_RESPONSES,
    name="permit_document",
    summary="Завантажити документ дозволу",
)
async def download_document(
    doc_id: int, principal: EditorDep, conn: ConnDep, settings: SettingsDep
) -> FileResponse:
    """The file as it was attached, under its name (Content-Disposition: attachment)."""
    doc, path = await documents.read(conn, settings.data_dir, doc_id, principal)
    return FileResponse(
        path,
        media_type=doc["media_type"],
        headers={
            "Content-Disposition": content_disposition(doc["filename"]),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete(
    "/documents/{doc_id}",
    status_code=204,
    response_class=Response,
    name="permit_document_remove",
    summary="Видалити документ дозволу",
)
async def remove_document(
    doc_id: int, principal: EditorDep, conn: ConnDep, settings: SettingsDep
) -> Response:
    """The document detached (kept in the audit trail by name, hash and size)."""
    await documents.remove(conn, settings.data_dir, doc_id, principal)
    return Response(status_code=204)

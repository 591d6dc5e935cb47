"""The planners' workbench: bulk import of structures from the city's registers (issue 16, item 6).

    POST /api/v1/planner/import   multipart: file (CSV or XLSX), layer, crs, retire_missing, mode

`mode=preview` (the default) answers what the register would add, change, remove and could not
place, and changes nothing; `mode=apply` does it, in one transaction, each change through
gis/structures.py (validation, placement rules, the audit trail naming the planner, the layer's
freshness). Planners and administrators only. The work is importers/registers.py's.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis.texts import preferred_language
from gis.values import check_string
from importers import registers

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

EditorDep = Annotated[Principal, allow("planner", "admin")]


@router.post("/import", response_model=schemas.RegisterImport, name="planner_import")
async def import_register(
    request: Request,
    principal: EditorDep,
    conn: ConnDep,
    file: Annotated[
        UploadFile, File(description="the register: CSV (UTF-8 or Windows-1251) or XLSX")
    ],
    layer: Annotated[Literal["advertising_structures", "kiosks"], Form()],
    crs: Annotated[str, Form(max_length=64, description="EPSG code of the coordinates")] = "4326",
    retire_missing: Annotated[bool, Form()] = False,
    mode: Annotated[Literal["preview", "apply"], Form()] = "preview",
) -> dict:
    """Preview or apply a register of advertising structures or kiosks: the counts and the
    lists of what is (or would be) added, changed (old → new, moved by), removed (retired only
    with `retire_missing`) and the rows that could not be placed, with the reason."""
    check_string(crs, "crs")
    source_crs = registers.read_crs(crs)
    data = await file.read(registers.MAX_BYTES + 1)
    name = file.filename or "register.csv"
    check_string(name[:200], "file")
    # Parsing a spreadsheet is CPU work: off the event loop.
    table = await asyncio.to_thread(registers.read_register, data, name)
    result = await registers.run(
        conn, layer, table, crs=source_crs, actor=principal, source=f"upload:{name}",
        retire_missing=retire_missing, apply=mode == "apply",
    )  # fmt: skip
    return result.as_json(preferred_language(request.headers.get("accept-language")))

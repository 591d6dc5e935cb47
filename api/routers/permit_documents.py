"""The planners' workbench: the files of a permit (issue 16, item 1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

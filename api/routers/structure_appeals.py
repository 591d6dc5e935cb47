"""The planners' workbench: appeals linked to advertising structures and kiosks (issue 16, item 5)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["planner"])

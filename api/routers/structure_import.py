"""The planners' workbench: bulk import of structures from the city's registers (issue 16, item 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

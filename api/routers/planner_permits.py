"""The planners' workbench: permits over time: the structures whose permits expire or have expired (issue 16, item 4)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/planner", tags=["planner"])

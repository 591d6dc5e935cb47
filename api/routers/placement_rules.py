"""The placement rules of advertising structures and kiosks (gis/placement_rules.py; checked
on every save by gis/placement.py), administrator only: list, create, change (title,
distance, on/off), delete; and the catalogue's layers a rule may name."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api import schemas
from api.deps import ConnDep
from api.policy import Principal, allow
from gis import placement_rules
from gis.values import Id

router = APIRouter(prefix="/api/v1/admin/placement-rules", tags=["admin"])

ADMIN = ("admin",)
TEXT_MAX = placement_rules.TITLE_MAX * 2  # longer: 400 field_too_long from the core


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPlacementRule(_Body):
    layer: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    title: str = Field(max_length=TEXT_MAX)
    title_en: str | None = Field(default=None, max_length=TEXT_MAX)
    distance_m: float | None = None
    other_layer: str | None = Field(default=None, max_length=64)
    enabled: bool = True


class PlacementRuleChange(_Body):
    title: str | None = Field(default=None, max_length=TEXT_MAX)
    title_en: str | None = Field(default=None, max_length=TEXT_MAX)
    distance_m: float | None = None
    enabled: bool | None = None


@router.get("", response_model=schemas.PlacementRules, name="admin_placement_rules")
async def list_rules(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """Every rule, by layer then id."""
    items = await placement_rules.list_rules(conn)
    return {"items": items, "returned": len(items)}


@router.get("/layers", response_model=schemas.PlacementRuleLayers,
            name="admin_placement_rule_layers")  # fmt: skip
async def list_layers(principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep) -> dict:
    """The catalogue's layers a rule may name as other_layer (`polygons`: usable by
    not_inside_layer)."""
    items = await placement_rules.layer_choices(conn)
    return {"items": items, "returned": len(items)}


@router.post("", response_model=schemas.PlacementRule, name="admin_placement_rule_create",
             status_code=201)  # fmt: skip
async def create_rule(
    body: NewPlacementRule, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> dict:
    """A rule of a layer (advertising_structures, kiosks) of one kind: min_distance_same
    (distance_m), min_distance_layer (distance_m, other_layer), not_inside_layer
    (other_layer of polygons)."""
    return await placement_rules.create_rule(conn, **body.model_dump(), actor=principal)


@router.patch("/{rule_id}", response_model=schemas.PlacementRule,
              name="admin_placement_rule_change")  # fmt: skip
async def change_rule(
    rule_id: Id, body: PlacementRuleChange, principal: Annotated[Principal, allow(*ADMIN)],
    conn: ConnDep,
) -> dict:  # fmt: skip
    """Another title, another distance (distance kinds), switch on or off."""
    return await placement_rules.change_rule(conn, rule_id, **body.model_dump(), actor=principal)


@router.delete("/{rule_id}", name="admin_placement_rule_delete", status_code=204)
async def delete_rule(
    rule_id: Id, principal: Annotated[Principal, allow(*ADMIN)], conn: ConnDep
) -> None:
    """Saves are no longer checked against the rule; the audit trail keeps it."""
    await placement_rules.delete_rule(conn, rule_id, actor=principal)

"""Resolving the caller of a request (placeholder until sessions land: everyone is anonymous)."""

from __future__ import annotations

from fastapi import Request

from api.policy import ANONYMOUS, Principal


async def current_principal(request: Request) -> Principal:
    return ANONYMOUS

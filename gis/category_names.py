"""How a category is named where it is shown alone (a queue's row, the feed's list, a report's
table): a sub-kind whose name other categories share — 1551's "Загальні питання", which many
kinds have — is named with its kind, "<kind> — <sub-kind>"; any other category by its own
name. Counts are kept per category id, so two kinds' "Загальні питання" stay two rows.

`label_sql(alias)` is the SQL expression over a `categories` row aliased `alias`; the
Ukrainian name and the English one (NULL when the category has none, as name_en).
"""

from __future__ import annotations

SEPARATOR = " — "


def label_sql(alias: str = "c", *, lang: str = "uk") -> str:
    """The category's shown name (lang "uk") or its English (lang "en", NULL without one)."""
    shared = (
        f"EXISTS (SELECT 1 FROM categories o WHERE o.name = {alias}.name AND o.id <> {alias}.id)"
    )
    if lang == "en":
        own = f"{alias}.name_en"
        kind = (
            f"(SELECT coalesce(p.name_en, p.name) FROM categories p WHERE p.id = {alias}.parent_id)"
        )
    else:
        own = f"{alias}.name"
        kind = f"(SELECT p.name FROM categories p WHERE p.id = {alias}.parent_id)"
    return (
        f"CASE WHEN {alias}.parent_id IS NOT NULL AND {own} IS NOT NULL AND {shared}"
        f" THEN {kind} || '{SEPARATOR}' || {own} ELSE {own} END"
    )

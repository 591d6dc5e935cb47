"""The tenancy guard's scanner (tests/test_tenancy_guard.py): which functions of gis/, layers/
and tiles/ read or write a tenant table without naming a council.

A function "touches" a tenant table when a string in it — or a module-level string constant it
names — matches TENANT_SQL. It is "scoped" when it names appeal_scope or council_scope, takes
a parameter called council / council_id / councils, its SQL says council_id, or it calls a
scoped function of its own module (or a method of its own class).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gis", "layers", "tiles")
EXCLUDED = ("gis/migrations/",)

TENANT_SQL = re.compile(
    r"\b(FROM|JOIN|UPDATE|INTO)\s+(appeals|appeal_features|appeal_authors|executors"
    r"|routing_rules|users|council_categories|dispatch_subscriptions|notifications"
    r"|open311_clients)\b"
)
SCOPE_NAMES = frozenset({"appeal_scope", "council_scope", "council_of"})
COUNCIL_PARAMS = frozenset({"council", "council_id", "councils", "council_ids"})


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def _strings(node: ast.AST) -> list[str]:
    return [t for n in ast.walk(node) if (t := _text(n)) is not None]


class _Function:
    def __init__(self, qualname: str, node: ast.AST, cls: str | None) -> None:
        self.qualname, self.node, self.cls = qualname, node, cls
        names: set[str] = set()
        calls: set[str] = set()
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                names.add(n.id)
            elif isinstance(n, ast.Attribute):
                names.add(n.attr)
            if isinstance(n, ast.Call):
                f = n.func
                if isinstance(f, ast.Name):
                    calls.add(f.id)
                elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                    if f.value.id in ("self", "cls") and cls:
                        calls.add(f"{cls}.{f.attr}")
        self.names, self.calls = names, calls
        args = node.args  # type: ignore[attr-defined]
        self.params = {
            a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
        }  # fmt: skip
        self.strings = _strings(node)


def _functions(tree: ast.Module) -> list[_Function]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(_Function(node.name, node, None))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found.append(_Function(f"{node.name}.{item.name}", item, node.name))
    return found


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound to strings (SQL constants), with their text and the text of
    the constants they are built from (an f-string naming another constant)."""
    out: dict[str, list[str]] = {}
    uses: dict[str, set[str]] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and node.value is not None:  # type: ignore[union-attr]
                value = node.value  # type: ignore[union-attr]
                out[t.id] = _strings(value)  # type: ignore[arg-type]
                uses[t.id] = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}  # type: ignore[arg-type]
    expanded: dict[str, list[str]] = {}
    for name in out:
        seen, todo, texts = {name}, [name], []
        while todo:
            current = todo.pop()
            texts.extend(out.get(current, ()))
            for used in uses.get(current, ()):
                if used in out and used not in seen:
                    seen.add(used)
                    todo.append(used)
        if texts:
            expanded[name] = texts
    return expanded


def unscoped(path: Path) -> list[str]:
    """'<path>:<function>' of each function in `path` touching a tenant table unscoped."""
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    functions = _functions(tree)
    touches: dict[str, bool] = {}
    scoped: dict[str, bool] = {}
    for f in functions:
        texts = list(f.strings)
        for name in f.names:
            texts.extend(constants.get(name, ()))
        touches[f.qualname] = any(TENANT_SQL.search(t) for t in texts)
        scoped[f.qualname] = bool(
            f.names & SCOPE_NAMES
            or f.params & COUNCIL_PARAMS
            or any("council_id" in t for t in texts)
        )
    changed = True
    while changed:
        changed = False
        for f in functions:
            if not scoped[f.qualname] and any(scoped.get(c) for c in f.calls):
                scoped[f.qualname] = changed = True
    return [
        f"{rel}:{f.qualname}" for f in functions if touches[f.qualname] and not scoped[f.qualname]
    ]


def scan() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(EXCLUDED):
                found.extend(unscoped(path))
    return found

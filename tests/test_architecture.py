"""The code's layout rules, read from the source:

- a router (api/routers/*.py) parses, authorises and calls the domain (gis/, layers/, tiles/):
  it runs no statement, builds none, and holds no SQL text;
- dependencies point one way: gis/ imports nothing from layers/, api/, tiles/ or webmap/;
  layers/ nothing from api/, tiles/ or webmap/; tiles/ nothing from api/ or webmap/; webmap/
  nothing from api/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROUTERS = sorted((ROOT / "api" / "routers").glob("*.py"))

# Calls that run or prepare a statement on a psycopg connection or cursor.
DB_CALLS = frozenset({"execute", "executemany", "cursor", "fetchone", "fetchall", "fetchmany"})
SQL_MODULES = ("psycopg.sql", "psycopg.rows", "sqlalchemy")
# SQL as it is written in this code base: upper-case keywords.
SQL_TEXT = re.compile(
    r"\bSELECT\s+[\w*(]|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bWHERE\b|\bJOIN\b|\bRETURNING\b|\bON\s+CONFLICT\b"
)


def _strings(node: ast.AST) -> str | None:
    """The text of a string literal, an f-string's literal parts joined."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def sql_in_router(source: str) -> list[str]:
    """Where `source` runs, builds or holds SQL: one line per finding, 'line N: what'."""
    found = []
    tree = ast.parse(source)
    inside_fstring = {
        id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in DB_CALLS:
                found.append(f"line {node.lineno}: calls .{node.func.attr}()")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(SQL_MODULES):
                    found.append(f"line {node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [f"{module}.{a.name}" for a in node.names]
            if any(n.startswith(SQL_MODULES) or module.startswith(SQL_MODULES) for n in names):
                found.append(f"line {node.lineno}: imports from {module}")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sql"
        ):
            found.append(f"line {node.lineno}: uses sql.{node.attr}")
        elif id(node) not in inside_fstring:
            text = _strings(node)
            if text is not None and (m := SQL_TEXT.search(text)):
                found.append(f"line {node.lineno}: SQL text {m.group()!r}")
    return found


@pytest.mark.parametrize("path", ROUTERS, ids=lambda p: p.name)
def test_routers_hold_no_sql(path):
    found = sql_in_router(path.read_text(encoding="utf-8"))
    assert found == [], f"{path.relative_to(ROOT)} must call the domain instead: {found}"


@pytest.mark.parametrize(
    "snippet",
    [
        "async def f(conn):\n    await conn.execute('x', ())",
        "async def f(conn):\n    async with conn.cursor() as cur:\n        pass",
        "from psycopg.rows import dict_row",
        "from psycopg import sql",
        "import psycopg.sql",
        "q = sql.SQL('x')",
        "Q = 'SELECT id FROM users WHERE id = %s'",
        "Q = \"SELECT current_setting('server_version')\"",
        "Q = 'INSERT INTO routing_rules (priority) VALUES (%s)'",
        "Q = 'UPDATE layers SET title = %s'",
        "Q = 'DELETE FROM routing_rules'",
        "def f(c, t):\n    return f'SELECT {c} FROM {t}'",
        "W = ['a.status = %s']\nW.append('(a.privileged::int, a.id) < (%s, %s) AND true')\n"
        "S = ' WHERE ' + ' AND '.join(W)",
    ],
)
def test_the_router_check_finds_sql(snippet):
    assert sql_in_router(snippet)


def test_the_router_check_lets_a_router_be():
    clean = '''
"""Select an appeal from the queue; update its status."""
from fastapi import APIRouter
from gis import staff_queue

async def card(conn, principal, number: str) -> dict:
    async with conn.transaction():
        return await staff_queue.card(conn, principal, number)
'''
    assert sql_in_router(clean) == []


# --- dependency direction ------------------------------------------------------------------

FORBIDDEN = {
    "gis": ("layers", "api", "tiles", "webmap"),
    "layers": ("api", "tiles", "webmap"),
    "tiles": ("api", "webmap"),
    "webmap": ("api",),
}


def imported_packages(path: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every absolute import in a module, also inside
    functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, a.name.split(".")[0]) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "node_modules" not in path.parts
        for line, imported in sorted(imported_packages(path))
        if imported in FORBIDDEN[package]
    ]
    assert wrong == [], f"{package}/ may not import {', '.join(FORBIDDEN[package])}: {wrong}"


def test_the_import_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from api.errors import x\n    import tiles.mvt\n")
    assert {p for _, p in imported_packages(module)} == {"api", "tiles"}


# A page's predicate given as a bare expression is run by Playwright through eval() inside the
# page, which the portal's Content-Security-Policy forbids: the wait then fails, but only when
# the first check (made outside the page) was false — a flaky test. A function is compiled by
# the browser's debugger protocol instead, which the policy does not govern.
FUNCTION_TEXT = re.compile(r"^\s*(\(|async\s|[A-Za-z_$][\w$]*\s*=>)")


def _bare_expression_waits(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "wait_for_function"
            and node.args
        ):
            text = _strings(node.args[0])
            if text is not None and not FUNCTION_TEXT.match(text):
                found.append(f"{name}:{node.lineno}: {text[:60]!r}")
    return found


def test_browser_waits_give_functions_not_bare_expressions():
    found = [
        hit
        for path in sorted((ROOT / "tests").glob("*.py"))
        for hit in _bare_expression_waits(path.read_text(), path.name)
    ]
    assert not found, (
        "wait_for_function with a bare expression (eval under the CSP):\n" + "\n".join(found)
    )


def test_the_wait_rule_catches_a_bare_expression():
    bad = "page.wait_for_function(\"document.title == 'x'\")\n"
    good = 'page.wait_for_function("() => document.title == \'x\'")\npage.wait_for_function("n => n > 1", arg=1)\n'
    assert _bare_expression_waits(bad, "bad.py") == ["bad.py:1: \"document.title == 'x'\""]
    assert _bare_expression_waits(good, "good.py") == []

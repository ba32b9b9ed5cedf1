"""Wiring: imports point one way, and nothing reads the clock or the environment directly.

The rules: the domain imports no framework or storage, and only the standard library plus the
libraries listed in DOMAIN_LIBRARIES; services and storage never import the Slack edge, the
Slack gateway or slack_sdk (they notify through a port); jobs never import handlers (shared
blocks live in ``bot.views``); listener modules (a ``handlers`` module with ``register(app)``)
never import each other; the product never imports the development tools, except the CLI's
``console`` command.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = (
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "apscheduler",
    "storage",
    "handlers",
    "jobs",
    "bot.services",
    "bot.deps",
    "bot.app",
)


# Third-party libraries the pure domain may use (everything else there is the standard library).
DOMAIN_LIBRARIES = frozenset({"ortools", "dateparser"})
SLACK = ("slack_sdk", "slack_bolt", "bot.slack_gateway")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("bot/domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_imports_no_framework_or_storage(path: Path) -> None:
    bad = {n for n in imports_of(path) if n.startswith(FORBIDDEN_IN_DOMAIN)}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", python_files("bot/domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_uses_only_the_standard_library_and_the_listed_libraries(path: Path) -> None:
    tops = {n.split(".")[0] for n in imports_of(path)}
    allowed = set(sys.stdlib_module_names) | DOMAIN_LIBRARIES | {"bot", "__future__"}
    assert tops <= allowed, f"{path.relative_to(ROOT)} imports {sorted(tops - allowed)}"


@pytest.mark.parametrize(
    "path", python_files("bot/services", "storage"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_services_and_storage_never_import_the_slack_edge_gateway_or_sdk(path: Path) -> None:
    bad = {n for n in imports_of(path) if n.startswith(("handlers", "jobs", *SLACK))}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", python_files("jobs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_jobs_never_import_handlers(path: Path) -> None:
    bad = {n for n in imports_of(path) if n.startswith("handlers")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def listener_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "handlers").glob("*.py") if "def register(" in p.read_text())


@pytest.mark.parametrize("path", listener_modules(), ids=lambda p: p.stem)
def test_listener_modules_never_import_each_other(path: Path) -> None:
    others = {f"handlers.{p.stem}" for p in listener_modules() if p != path}
    bad = {n for n in imports_of(path) if n in others}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_there_are_listener_modules_to_check() -> None:
    assert {p.stem for p in listener_modules()} >= {"availability", "caseload", "home", "soap"}


def test_the_product_never_imports_the_development_tools() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("bot", "handlers", "jobs", "storage")
        if any(n.startswith("devtools") for n in imports_of(p))
        and p.relative_to(ROOT) != Path("bot/__main__.py")  # `python -m bot console`
    ]
    assert offenders == []


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in python_files("bot", "handlers", "jobs", "storage"):
        text = path.read_text()
        if ("os.environ" in text or "os.getenv" in text) and path.name != "settings.py":
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _rollbacks_inside_begin(tree: ast.AST) -> list[int]:
    """Lines calling ``.rollback()`` inside a ``with ….begin()`` block: the context manager
    owns that transaction, and rolling it back underneath it leaves the session unusable (the
    block's exit then fails, and the user read "Something went wrong")."""
    found: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.With):
            continue
        owns = any(
            isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "begin"
            for item in node.items
        )
        if not owns:
            continue
        for inner in node.body:
            found += [
                n.lineno
                for n in ast.walk(inner)
                if isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "rollback"
            ]
    return found


def test_no_rollback_inside_a_transaction_block() -> None:
    assert _rollbacks_inside_begin(
        ast.parse("with f.begin() as s:\n    if x:\n        s.rollback()\n")
    ) == [3]
    offenders = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in python_files("bot", "handlers", "jobs", "storage", "devtools")
        for line in _rollbacks_inside_begin(ast.parse(p.read_text()))
    ]
    assert offenders == []

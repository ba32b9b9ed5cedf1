"""Wiring: imports point one way, and nothing reads the clock or the environment directly."""

from __future__ import annotations

import ast
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


@pytest.mark.parametrize(
    "path", python_files("bot/services", "storage"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_services_and_storage_do_not_import_the_slack_edge(path: Path) -> None:
    bad = {n for n in imports_of(path) if n.startswith(("handlers", "jobs", "slack_bolt"))}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_only_settings_reads_the_environment() -> None:
    offenders = []
    for path in python_files("bot", "handlers", "jobs", "storage"):
        text = path.read_text()
        if ("os.environ" in text or "os.getenv" in text) and path.name != "settings.py":
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

"""Tests: matcher properties on seeded random instances (validity, never worse than greedy)."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.matching import evaluate, greedy, solve, validate
from demo.instances import STATE_OFFSET, synthetic_instance


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_needs=st.integers(min_value=1, max_value=36),
    n_providers=st.integers(min_value=1, max_value=7),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_greedy_and_solve_are_valid_and_solve_never_worse(
    n_needs: int, n_providers: int, seed: int
) -> None:
    inp = synthetic_instance(n_needs, n_providers, seed)
    g = greedy(inp)
    assert validate(inp, g) == []
    s = solve(inp, time_limit_s=0.8, seed=seed)
    assert validate(inp, s) == []
    assert s.objective["served"] >= g.objective["served"]
    assert evaluate(inp, s.sessions)[0] >= evaluate(inp, g.sessions)[0]
    assert len(s.unmatched) == len(inp.needs) - int(s.objective["served"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_district_sized_greedy_is_valid(seed: int) -> None:
    inp = synthetic_instance(300, 40, seed)
    r = greedy(inp)
    assert validate(inp, r) == []
    assert r.solve_seconds < 2.0


def test_synthetic_instances_are_seeded_and_realistic() -> None:
    a = synthetic_instance(60, 8, 5)
    assert a == synthetic_instance(60, 8, 5)
    assert a != synthetic_instance(60, 8, 6)
    assert len(a.needs) == 60 and len(a.providers) == 8
    for n in a.needs:
        assert [d.day for d in n.school_days] == ["mon", "tue", "wed", "thu", "fri"]
        offset = STATE_OFFSET[n.state]
        for day_index, d in enumerate(n.school_days):
            for start, end in d.windows:
                local = start + offset * 60 - day_index * 1440
                assert local >= 7 * 60 and end - start <= 8 * 60
    for p in a.providers:
        assert 3 <= len(p.available) <= 5
        assert p.capacity_minutes <= 30 * 60


def test_solve_reports_a_method_and_time() -> None:
    inp = synthetic_instance(30, 5, 3)
    started = time.perf_counter()
    r = solve(inp, time_limit_s=1.0)
    wall = time.perf_counter() - started
    assert r.method in {"greedy", "iterated-greedy", "relaxation", "cp-sat", "cp-sat+lns"}
    # The time it reports is the solve's own (how far past 1 s a loaded machine lets it run is
    # the benchmarks' business, not a test's).
    assert 0 < r.solve_seconds <= wall


def test_matching_package_is_pure() -> None:
    forbidden = ("slack", "slack_sdk", "slack_bolt", "sqlalchemy", "apscheduler", "storage")
    root = Path(__file__).resolve().parents[2] / "bot" / "domain" / "matching"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
        assert "datetime.now" not in path.read_text()

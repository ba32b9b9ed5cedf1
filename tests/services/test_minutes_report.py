"""Services and CLI: the service log CSV matches the database; names are audited; formula-safe
cells; bad arguments are one line with the contract's exit codes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.minutes import Month
from bot.services.minutes_report import safe, write_report
from storage import models as m
from tests.services.caseload_seed import utc
from tests.services.minutes_seed import seed_minutes

DEC = Month(2026, 12)
TS = m.TherapySession


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock) -> Deps:
    seed_minutes(deps, tmp_path, clock)
    return deps


def report(deps: Deps, **kw: object) -> list[dict[str, str]]:
    out = io.StringIO()
    write_report(deps, "anc", DEC, out, **kw)  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_session_log_rows_and_totals_match_the_database(world: Deps) -> None:
    rows = report(world)
    lo, hi = utc(2026, 12, 1, 9), utc(2027, 1, 1, 9)  # December in Anchorage
    with world.session_factory() as s:
        where = (TS.starts_at >= lo, TS.starts_at < hi)
        count = s.scalar(select(func.count()).select_from(TS).where(*where))
        total = s.scalar(select(func.sum(TS.minutes)).where(*where))
        held = s.scalar(select(func.sum(TS.minutes)).where(*where, TS.status == "held"))
    assert len(rows) == count == 10
    assert sum(int(r["minutes"]) for r in rows) == total
    assert sum(int(r["minutes"]) for r in rows if r["status"] == "held") == held
    first = rows[0]
    assert first == {
        "date": "2026-12-01",
        "start_time": "08:00",
        "timezone": "America/Anchorage",
        "student_id": "S1",
        "service": "slp",
        "minutes": "30",
        "status": "held",
        "cancel_reason": "",
        "note_written": "no",
        "provider_id": "P1",
        "makeup": "no",
    }
    assert {(r["status"], r["cancel_reason"]) for r in rows if r["status"] == "cancelled"} == {
        ("cancelled", "provider"),
        ("cancelled", "school"),
    }
    summary = report(world, summary=True)
    assert [(r["student_id"], r["service"]) for r in summary] == [
        ("S1", "slp"),
        ("S2", "ot"),
        ("S3", "slp"),
    ]
    assert sum(int(r["delivered"]) for r in summary) == held
    assert [r["owed"] for r in summary] == ["30", "0", "30"]
    assert "first_name" not in summary[0] and "Tala" not in str(rows)


def test_names_only_when_asked_audited_and_formula_safe(world: Deps) -> None:
    with world.session_factory.begin() as s:
        student = s.get(m.Student, "S1")
        assert student is not None
        student.first_name = '=HYPERLINK("http://x")'
        other = s.get(m.Student, "S3")
        assert other is not None
        other.first_name, other.last_name = "@SUM(A1)", "-Lee+1"
    rows = report(world, with_names=True, actor="cli:test")
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["last_name"] == "Evans"
    s2 = next(r for r in rows if r["student_id"] == "S3")
    assert (s2["first_name"], s2["last_name"]) == ("'@SUM(A1)", "'-Lee+1")
    summary = report(world, summary=True, with_names=True, actor="cli:test")
    s2 = next(r for r in summary if r["student_id"] == "S3")
    assert (s2["first_name"], s2["last_name"]) == ("'@SUM(A1)", "'-Lee+1")
    with world.session_factory() as s:
        audit = s.scalars(
            select(m.AuditLog)
            .where(m.AuditLog.action.like("report.%"))
            .order_by(m.AuditLog.id)
            .limit(1)
        ).one()
    assert (audit.actor, audit.subject_id, audit.after) == (
        "cli:test",
        "anc",
        {"month": "2026-12", "report": "sessions"},
    )
    assert [safe(c) for c in ["+1", "-2", "@x", "\tx", "ok", 5]] == [
        "'+1",
        "'-2",
        "'@x",
        "'\tx",
        "ok",
        5,
    ]


def _cli(monkeypatch: pytest.MonkeyPatch, deps: Deps, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    # In-process, the CLI must not point the process's logging at pytest's captured stream.
    monkeypatch.setattr("bot.__main__.setup_logging", lambda settings: None)
    return main(["report", "minutes", *args])


def test_cli_writes_the_csv_and_refuses_bad_arguments(
    world: Deps, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _cli(monkeypatch, world, "--district", "anchorage", "--month", "2026-12") == 0
    out = capsys.readouterr().out
    assert out.startswith("date,start_time,timezone,student_id,") and len(out.splitlines()) == 11
    target = tmp_path / "log.csv"
    code = _cli(
        monkeypatch,
        world,
        "--district",
        "anc",
        "--month",
        "2026-12",
        "--summary",
        "--out",
        str(target),
    )
    assert code == 0 and len(target.read_text().splitlines()) == 4
    assert "log.csv: 3 rows for Anchorage School District, December 2026" in capsys.readouterr().err
    assert _cli(monkeypatch, world, "--district", "atlantis", "--month", "2026-12") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: I don't know a district called 'atlantis'")
    assert len(err.strip().splitlines()) == 1
    missing = tmp_path / "nope.csv"
    assert (
        _cli(
            monkeypatch,
            world,
            "--district",
            "atlantis",
            "--month",
            "2026-12",
            "--out",
            str(missing),
        )
        == 1
    )
    assert not missing.exists() and not list(tmp_path.glob("*.partial"))
    for bad in (["--district", "anc", "--month", "2026-13"], ["--month", "2026-12"]):
        with pytest.raises(SystemExit) as exit_info:
            _cli(monkeypatch, world, *bad)
        assert exit_info.value.code == 2

"""Storage: the one outbox — insert once by key, claim with a lease, release, mark sent — and the
generic insert-or-ignore / upsert that every other module uses instead of its own dialect switch."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.deps import Deps
from storage import models as m
from storage import outbox

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
ROOT = Path(__file__).resolve().parents[2]


def row(key: str, recipient: str = "P1", after: datetime = NOW) -> dict[str, Any]:
    return {
        "key": key,
        "rule": "test",
        "recipient_kind": "provider",
        "recipient_id": recipient,
        "subject_id": key,
        "due_on": None,
        "stage": "new",
        "payload": {},
        "created_at": NOW,
        "send_after": after,
        "attempts": 0,
    }


def state(deps: Deps) -> dict[str, tuple[str | None, bool, int, str | None]]:
    with deps.session_factory() as s:
        return {
            n.key: (n.claimed_by, n.sent_at is not None, n.attempts, n.last_error)
            for n in s.scalars(select(m.Nudge))
        }


def test_enqueue_inserts_each_key_once(deps: Deps) -> None:
    with deps.session_factory.begin() as s:
        assert outbox.enqueue(s, [row("a"), row("b"), row("a")]) == 2
    with deps.session_factory.begin() as s:
        assert outbox.enqueue(s, [row("a"), row("c")]) == 1
        assert outbox.enqueue_new(s, [row("c"), row("d")]) != []
    with deps.session_factory.begin() as s:
        assert outbox.enqueue_new(s, [row("d")]) == []
    assert sorted(state(deps)) == ["a", "b", "c", "d"]


def test_a_claim_is_exclusive_until_its_lease_lapses(deps: Deps) -> None:
    with deps.session_factory.begin() as s:
        outbox.enqueue(s, [row("a"), row("b", "P2"), row("later", after=NOW + timedelta(hours=1))])
    due = m.Nudge.send_after <= NOW
    with deps.session_factory.begin() as s:
        got = outbox.claim(s, due, "w1", NOW, LEASE)
    assert sorted(k for _, k, _ in got) == ["provider", "provider"]
    assert sorted(r for *_, r in got) == ["P1", "P2"]
    with deps.session_factory.begin() as s:
        assert outbox.claim(s, due, "w2", NOW + timedelta(minutes=4), LEASE) == []
        assert not outbox.claim_key(s, "a", "w2", NOW, LEASE)
    with deps.session_factory.begin() as s:  # w1 died: its lease lapses and w2 takes over
        assert len(outbox.claim(s, due, "w2", NOW + timedelta(minutes=6), LEASE)) == 2
    assert state(deps)["a"] == ("w2", False, 2, None)
    assert state(deps)["later"] == (None, False, 0, None)


def test_release_and_mark_sent_act_only_for_the_lease_holder(deps: Deps) -> None:
    with deps.session_factory.begin() as s:
        outbox.enqueue(s, [row("a"), row("b")])
    with deps.session_factory.begin() as s:
        ids = {k: i for i, k in s.execute(select(m.Nudge.id, m.Nudge.key))}
        assert outbox.claim_key(s, "a", "w1", NOW, LEASE)
        assert outbox.claim_key(s, "b", "w1", NOW, LEASE)
    with deps.session_factory.begin() as s:
        assert outbox.mark_sent(s, [ids["a"]], "intruder", NOW) == 0
        outbox.release(s, [ids["b"]], "intruder", "nope")
    assert state(deps)["b"] == ("w1", False, 1, None)
    with deps.session_factory.begin() as s:
        assert outbox.mark_sent(s, [ids["a"]], "w1", NOW) == 1
        outbox.release(s, [ids["b"]], "w1", "slack down")
    assert state(deps)["a"] == ("w1", True, 1, None)
    assert state(deps)["b"] == (None, False, 1, "slack down")
    with deps.session_factory.begin() as s:  # a sent row is never claimed again
        assert not outbox.claim_key(s, "a", "w2", NOW + timedelta(hours=1), LEASE)
        assert outbox.claim_key(s, "b", "w2", NOW, LEASE)
        assert outbox.mark_skipped(s, [ids["b"]], NOW, "unreachable") == 1
    assert state(deps)["b"] == (None, False, 2, "unreachable")


def test_insert_ignore_and_upsert_on_any_table(deps: Deps) -> None:
    district = {"id": "D1", "name": "One", "state": "AK", "timezone": "America/Anchorage"}
    with deps.session_factory.begin() as s:
        assert outbox.insert_ignore(s, m.District, [district], ["id"], returning=m.District.id) == [
            "D1"
        ]
        renamed = {**district, "name": "Renamed"}
        assert outbox.insert_ignore(s, m.District, [renamed], ["id"], returning=m.District.id) == []
    with deps.session_factory() as s:
        assert s.scalar(select(m.District.name)) == "One"
    with deps.session_factory.begin() as s:
        outbox.upsert(s, m.District, [renamed], ["id"], ["name"])
    with deps.session_factory() as s:
        assert s.scalar(select(m.District.name)) == "Renamed"


def test_only_the_outbox_module_speaks_on_conflict_or_skip_locked() -> None:
    offenders = []
    for folder in ("bot", "handlers", "jobs", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "storage" / "outbox.py" or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            imported = {
                n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
            }
            if (
                names & {"on_conflict_do_nothing", "on_conflict_do_update"}
                or "skip_locked" in path.read_text()
                or imported & {"sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.sqlite"}
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

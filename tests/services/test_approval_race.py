"""Services and handlers: Approve all and per-provider Approve clicked at the same instant, on
the real database (SQLite, or PostgreSQL with TEST_DATABASE_URL), through the real app.

Whatever the interleaving, the proposal ends approved with every assignment made once, each
provider gets one DM, every click gets a plain answer, and the log holds no database error.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.services import matching as svc
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body
from storage import models as m
from tests.services.test_matching import AV, LIC, SV, load
from tests.support.app_driver import Driver

H = "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
PROVIDERS = (
    H + "P1,Ana Reyes,ana@example.org,U0P1,slp,CA,America/Los_Angeles,1.5\n"
    "P2,Ben Ko,ben@example.org,U0P2,ot,AK,America/Anchorage,12.5\n"
    "P3,Cy Moss,cy@example.org,U0P3,slp,AK,America/Anchorage,1.5\n"
)
MANAGERS = (
    "manager_id,name,email,slack_user_id\n"
    "M1,Mia Park,mia@example.org,U0M1\nM2,Lee Chan,lee@example.org,U0M2\n"
)
STUDENT_IDS = [f"STU{i}X" for i in range(1, 9)]
STUDENTS = "student_id,school_id,first_name,last_name,grade,annual_review_due,triennial_due\n" + (
    "".join(f"{sid},SCH1,Kid,Number{i},3,2027-05-01,\n" for i, sid in enumerate(STUDENT_IDS))
)
SERVICES = SV + "".join(
    f"{sid},{'ot' if i % 3 == 2 else 'slp'},1,30,no\n" for i, sid in enumerate(STUDENT_IDS)
)
ROUNDS = 4


@pytest.fixture
def proposal(deps: Deps, tmp_path: Path) -> svc.Proposal:
    load(
        deps,
        tmp_path,
        providers_csv=PROVIDERS,
        managers_csv=MANAGERS,
        licenses_csv=LIC + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\n"
        "P2,AK,2028-06-30,AK-2\nP3,AK,2028-06-30,AK-3\n",
        students_csv=STUDENTS,
        services_csv=SERVICES,
        availability_csv=AV + "P1,mon,08:00,12:00\nP2,mon,09:00,12:00\nP3,tue,08:00,12:00\n",
    )
    p = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert p.proposal_id and len(p.plans) == 3 and p.students_served == len(STUDENT_IDS)
    return p


def press(slack: LocalSlack, user: str, action_id: str, value: str, key: str) -> str:
    return block_actions_body(
        user_id=user,
        action={
            "action_id": action_id,
            "block_id": "b",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "Approve"},
        },
        response_url=slack.response_url(key),
        container={"type": "message", "message_ts": "1.1", "channel_id": "D" + user},
    )


def count(deps: Deps, model: type[m.Base], *where: object) -> int:
    with deps.session_factory() as s:
        q = select(func.count()).select_from(model)
        for w in where:
            q = q.where(w)  # type: ignore[arg-type]
        return int(s.scalar(q) or 0)


def replies_by_key(slack: LocalSlack) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in slack.calls_to("response_url"):
        said = str(c.params.get("text") or "") + json.dumps(c.params.get("blocks") or [])
        out.setdefault(c.response_key or "", []).append(said)
    return out


def clicks(proposal: svc.Proposal) -> list[tuple[str, str, str]]:
    """Two managers each press Approve all and every provider's Approve."""
    pid = proposal.proposal_id or ""
    out = [("U0M1", "match_approve_all", pid), ("U0M2", "match_approve_all", pid)]
    for user in ("U0M2", "U0M1"):
        out += [(user, "match_approve_provider", f"{pid}:{p.provider_id}") for p in proposal.plans]
    return out


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_approve_all_and_per_provider_at_once(
    deps: Deps,
    proposal: svc.Proposal,
    slack: LocalSlack,
    caplog: pytest.LogCaptureFixture,
    round_: int,
) -> None:
    caplog.set_level(logging.INFO)
    driver = Driver(deps, slack)
    slack.clear()
    todo = clicks(proposal)
    if round_ % 2:
        todo.reverse()  # the per-provider clicks reach the database first as often as not
    barrier = threading.Barrier(len(todo))
    errors: list[BaseException] = []
    statuses: list[int] = []

    def click(i: int, user: str, action_id: str, value: str) -> None:
        body = press(slack, user, action_id, value, f"k{i}")
        barrier.wait()
        try:
            statuses.append(driver.send(body).status)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=click, args=(i, *c)) for i, c in enumerate(todo)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and statuses == [200] * len(todo)

    pid = proposal.proposal_id or ""
    total = len(STUDENT_IDS)
    with deps.session_factory() as s:
        action = s.get(m.PendingAction, pid)
        assert action is not None and action.status == "approved"
        approved = dict(action.payload.get("approved_providers", {}))
        audits = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "match.approve")).all()
    # Every provider counts as approved, whichever button did it.
    assert set(approved) <= {p.provider_id for p in proposal.plans}
    assert count(deps, m.Assignment) == total
    assert count(deps, m.Assignment, m.Assignment.proposal_id == pid) == total
    assert sum(int(a.after["assignments"]) for a in audits) == total  # type: ignore[index]
    assert all(int(a.after["assignments"]) > 0 for a in audits)  # type: ignore[index]
    # One outbox row and one DM per provider.
    assert count(deps, m.Nudge, m.Nudge.rule == "assignment") == len(proposal.plans)
    deadline = time.monotonic() + 5
    while len(slack.calls_to("chat.postMessage")) < len(proposal.plans):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    dms = slack.calls_to("chat.postMessage")
    assert sorted(c.params["channel"] for c in dms) == sorted({c.params["channel"] for c in dms}), (
        "a provider was told twice"
    )
    assert len(dms) == len(proposal.plans)

    replies = replies_by_key(slack)
    assert sorted(replies) == sorted(f"k{i}" for i in range(len(todo)))
    fresh = 0
    for i, (user, _, _) in enumerate(todo):
        [said] = replies[f"k{i}"]
        assert "Something went wrong" not in said and "try again" not in said, said
        assert "another manager" not in said, said
        if "Already approved" in said:
            other = "U0M2" if user == "U0M1" else "U0M1"
            assert "Already approved by you" in said or f"Already approved by <@{other}>" in said
            assert f"<@{user}>" not in said
        else:
            assert "Approved" in said, said
            fresh += 1
    assert fresh == len(audits)

    logged = caplog.text
    for bad in ("UniqueViolation", "IntegrityError", "unique constraint", "UNIQUE constraint"):
        assert bad.lower() not in logged.lower()
    for bad in ("deadlock", "database is locked", "unexpected_error", "Traceback"):
        assert bad.lower() not in logged.lower()
    assert not re.search(r"STU\dX", logged), "a student id reached the log"


def test_approve_all_twice_in_a_row_names_who_approved(
    deps: Deps, proposal: svc.Proposal, slack: LocalSlack
) -> None:
    driver = Driver(deps, slack)
    pid = proposal.proposal_id or ""
    first = driver.send(press(slack, "U0M1", "match_approve_all", pid, "first")).said()
    assert "Approved" in first and "Already" not in first
    mine = driver.send(press(slack, "U0M1", "match_approve_all", pid, "mine")).said()
    assert "Already approved by you." in mine and "<@U0M1>" not in mine
    theirs = driver.send(press(slack, "U0M2", "match_approve_all", pid, "theirs")).said()
    assert "Already approved by <@U0M1>." in theirs
    one = f"{pid}:{proposal.plans[0].provider_id}"
    per = driver.send(press(slack, "U0M2", "match_approve_provider", one, "per")).said()
    assert "Already approved by <@U0M1>." in per
    assert "Something went wrong" not in first + mine + theirs + per
    assert count(deps, m.Assignment) == len(STUDENT_IDS)

"""Handlers and services: a manager scoped to some districts (demo roster: M02 serves Anchorage,
M03 Mesa and Pflugerville, M01 every district) cannot match, approve, discard or re-run
another district's proposal, open a note of another district's student, or get another
district in their digest; each refusal is audited."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.deps import Deps
from bot.domain.sessions import NOTE_STATUSES, NoteText
from bot.services import soap
from bot.services.errors import NotAllowed
from bot.services.matching import KIND
from bot.services.scope import OUTSIDE, PROPOSAL_GONE
from devtools.local_slack import LocalSlack
from storage import models as m
from tests.support.app_driver import Driver

M_ANC, M_ALL = "U0DEMOM02", "U0DEMOM01"


def denials(deps: Deps) -> list[tuple[str, str, str]]:
    with deps.session_factory() as s:
        rows = s.scalars(select(m.AuditLog).where(m.AuditLog.action.like("%denied"))).all()
        return [(r.actor, r.action, r.subject_id) for r in rows]


def proposal_for(deps: Deps, district_id: str) -> str:
    with deps.session_factory.begin() as s:
        s.add(
            m.PendingAction(
                id="prop-scope-1",
                kind=KIND,
                actor_slack_id=M_ALL,
                subject_id=district_id,
                payload={"district_id": district_id, "provider_ids": [], "week_of": "2026-11-30"},
                created_at=deps.clock.now(),
            )
        )
    return "prop-scope-1"


def test_a_scoped_manager_cannot_match_another_district(demo_deps: Deps, slack: LocalSlack) -> None:
    reply = Driver(demo_deps, slack).slash(M_ANC, "/match", "district=mesa")
    assert OUTSIDE in reply.said()
    assert denials(demo_deps) == [("manager:M02", "match.run.denied", "mesa")]
    with demo_deps.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0


def test_a_scoped_manager_cannot_approve_or_discard_another_districts_proposal(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    proposal = proposal_for(demo_deps, "mesa")
    driver = Driver(demo_deps, slack)
    for action in ("match_approve_all", "match_discard", "match_rerun"):
        assert PROPOSAL_GONE in driver.press(M_ANC, action, proposal).said()
    said = driver.press(M_ANC, "match_approve_provider", f"{proposal}:P01").said()
    assert PROPOSAL_GONE in said
    # A proposal that does not exist gets the same sentence: ids can't be probed.
    assert PROPOSAL_GONE in driver.press(M_ANC, "match_approve_all", "prop-no-such").said()
    assert [(a, subject) for _, a, subject in denials(demo_deps)] == [
        ("match.approve.denied", proposal),
        ("match.discard.denied", proposal),
        ("match.rerun.denied", proposal),
        ("match.approve.denied", proposal),
        ("match.approve.denied", "prop-no-such"),
    ]
    with demo_deps.session_factory() as s:
        assert s.get(m.PendingAction, proposal).status == "pending"  # type: ignore[union-attr]


def _note_in(deps: Deps, district_id: str) -> int:
    now = deps.clock.now()
    with deps.session_factory() as s:
        ts = m.TherapySession
        row = s.execute(
            select(ts.id, m.Provider.slack_user_id)
            .join(m.Student, m.Student.id == ts.student_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .join(m.Provider, m.Provider.id == ts.provider_id)
            .where(
                m.School.district_id == district_id,
                ts.note_done_at.is_(None),
                ts.status.in_([str(st) for st in NOTE_STATUSES]),
                ts.starts_at < now - timedelta(hours=2),
            )
            .limit(1)
        ).one()
    note = NoteText("s", "Goal 1: 8/10", "a", "p")
    return soap.save_note(deps, str(row.slack_user_id), int(row.id), note).note_id


def test_a_scoped_manager_cannot_open_another_districts_note(demo_deps: Deps) -> None:
    note_id = _note_in(demo_deps, "mesa")
    try:
        soap.open_note(demo_deps, M_ANC, note_id)
    except NotAllowed:
        pass
    else:
        raise AssertionError("a manager outside the district opened the note")
    assert soap.open_note(demo_deps, "U0DEMOM03", note_id).note_id == note_id  # serves Mesa
    assert soap.open_note(demo_deps, M_ALL, note_id).note_id == note_id  # every district
    assert ("manager:M02", "soap.view_denied", str(note_id)) in denials(demo_deps)


def test_a_scoped_managers_digest_covers_only_their_districts(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    from bot.services.digest import send_weekly_digests

    monday = demo_deps.clock.now().replace(hour=20, minute=0)  # Monday, past 08:00 everywhere
    send_weekly_digests(demo_deps, monday)
    sent = {c.params["channel"]: c for c in slack.calls_to("chat.postMessage")}
    anc = json.dumps(sent["DU0DEMOM02"].params, ensure_ascii=False)
    everyone = json.dumps(sent["DU0DEMOM01"].params, ensure_ascii=False)
    assert "Anchorage" in anc and "Mesa" not in anc and "Pflugerville" not in anc
    assert "Mesa" in everyone

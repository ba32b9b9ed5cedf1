"""Services: SOAP notes on a real database — which sessions need one, saving once, who may
write, history without contents, and opening a note (author and managers, audited)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import NoteText
from bot.services import soap as svc
from bot.services.deadlines import overdue_notes
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from storage import models as m
from tests.services.caseload_seed import add_session, seed

NOTE = NoteText("Happy to be here", "Goal 1: 8/10 correct (80%)", "Progressing", "Continue")


@pytest.fixture
def roster(deps: Deps, tmp_path: Path, clock: FixedClock) -> Deps:
    seed(deps, tmp_path)
    now = clock.now()
    add_session(deps, "A", "S1", now - timedelta(days=6))  # held, overdue
    add_session(deps, "B", "S1", now - timedelta(days=1), status="scheduled")  # over, not marked
    add_session(deps, "C", "S1", now - timedelta(days=2), status="cancelled")
    add_session(deps, "D", "S1", now - timedelta(days=3), status="no_show")
    add_session(deps, "E", "S1", now + timedelta(days=1), status="scheduled")  # future
    add_session(deps, "F", "S1", now - timedelta(days=4), note_done_at=now - timedelta(days=3))
    add_session(deps, "G", "S1", now - timedelta(days=5))  # a group session: S1 and S3
    add_session(deps, "G", "S3", now - timedelta(days=5))
    add_session(deps, "H", "S2", now - timedelta(days=3), provider="P2", service="ot")
    return deps


def sid(deps: Deps, key: str, student: str = "S1") -> int:
    with deps.session_factory() as s:
        found = s.scalar(
            select(m.TherapySession.id).where(
                m.TherapySession.session_key == key, m.TherapySession.student_id == student
            )
        )
    assert found is not None
    return int(found)


def test_form_lists_own_sessions_that_need_a_note_newest_first(roster: Deps) -> None:
    choices = svc.sessions_awaiting_note(roster, "U0P1")
    got = [(c.student_id, c.group) for c in choices]
    assert got == [("S1", False), ("S1", True), ("S3", True), ("S1", False)]  # B, G, G, A
    assert [c.session_id for c in choices][0] == sid(roster, "B")
    assert choices[0].when.utcoffset() == timedelta(hours=-8)  # shown in Pacific time
    assert all(c.student.startswith(("T.E.", "I.M.")) for c in choices)  # initials only


@pytest.mark.parametrize(
    ("user", "error", "message"),
    [
        ("U0M1", NotAllowed, "Only providers write SOAP notes"),  # a manager
        ("U0NOBODY", NotAllowed, "I don't have you in the roster"),  # unknown Slack user
    ],
)
def test_only_providers_get_the_form(
    roster: Deps, user: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        svc.sessions_awaiting_note(roster, user)


def test_saving_stores_the_note_and_clears_the_overdue_note(
    roster: Deps, clock: FixedClock
) -> None:
    a = sid(roster, "A")
    with roster.session_factory() as s:
        before = [n.session_id for n in overdue_notes(s, clock.now(), 48, False, provider_id="P1")]
    assert a in before
    saved = svc.save_note(roster, "U0P1", a, NOTE)
    assert not saved.already and saved.student == "T.E. (S1)"
    with roster.session_factory() as s:
        note = s.scalars(select(m.SoapNote).where(m.SoapNote.session_id == a)).one()
        session = s.get(m.TherapySession, a)
        after = [n.session_id for n in overdue_notes(s, clock.now(), 48, False, provider_id="P1")]
    assert (note.author_provider_id, note.student_id, note.objective) == (
        "P1",
        "S1",
        NOTE.objective,
    )
    assert session is not None and session.note_done_at == clock.now()
    assert a not in after


def test_writing_a_note_for_an_unmarked_session_marks_it_held(roster: Deps) -> None:
    b = sid(roster, "B")
    svc.save_note(roster, "U0P1", b, NOTE)
    with roster.session_factory() as s:
        session = s.get(m.TherapySession, b)
    assert session is not None and session.status == "held"


def test_double_submit_saves_once(roster: Deps) -> None:
    a = sid(roster, "A")
    first = svc.save_note(roster, "U0P1", a, NOTE)
    again = svc.save_note(roster, "U0P1", a, NOTE)
    assert again.already and again.note_id == first.note_id
    results: list[svc.SavedNote] = []
    b = sid(roster, "B")

    def submit() -> None:
        results.append(svc.save_note(roster, "U0P1", b, NOTE))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.already for r in results) == [False, True, True, True]
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.SoapNote)) == 2


def test_a_group_session_needs_one_note_per_student(roster: Deps) -> None:
    svc.save_note(roster, "U0P1", sid(roster, "G", "S1"), NOTE)
    left = [(c.student_id, c.group) for c in svc.sessions_awaiting_note(roster, "U0P1")]
    assert ("S3", True) in left and ("S1", True) not in left
    svc.save_note(roster, "U0P1", sid(roster, "G", "S3"), NOTE)
    assert all(not c.group for c in svc.sessions_awaiting_note(roster, "U0P1"))


@pytest.mark.parametrize(
    ("user", "error", "message"),
    [
        ("U0P2", NotAllowed, "Only the session's own provider can write its note."),
        ("U0M1", NotAllowed, "Only providers write SOAP notes"),
        ("U0NOBODY", NotAllowed, "I don't have you in the roster"),
    ],
)
def test_only_the_sessions_provider_writes_its_note(
    roster: Deps, user: str, error: type[Exception], message: str
) -> None:
    a = sid(roster, "A")
    with pytest.raises(error, match=message):
        svc.save_note(roster, user, a, NOTE)
    with pytest.raises(error, match=message):
        svc.session_for_note(roster, user, a)
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.SoapNote)) == 0


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        ("C", Conflict, "was cancelled, so it needs no note"),
        ("D", Conflict, "was a no-show, so it needs no note"),
        ("E", InvalidInput, "hasn't happened yet"),
    ],
)
def test_sessions_that_need_no_note_are_refused(
    roster: Deps, key: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        svc.save_note(roster, "U0P1", sid(roster, key), NOTE)


def test_session_for_note_and_invalid_notes(roster: Deps) -> None:
    a = sid(roster, "A")
    assert svc.session_for_note(roster, "U0P1", a).session_id == a
    with pytest.raises(NotAllowed, match=svc.NOT_YOURS):  # as for someone else's session
        svc.session_for_note(roster, "U0P1", 999_999)
    with pytest.raises(Conflict, match="already written"):
        svc.session_for_note(roster, "U0P1", sid(roster, "F"))
    with pytest.raises(InvalidInput, match="Objective is required"):
        svc.save_note(roster, "U0P1", a, NoteText("s", "  ", "a", "p"))


# --- history and reading -------------------------------------------------------------------


@pytest.fixture
def noted(roster: Deps) -> int:
    return svc.save_note(roster, "U0P1", sid(roster, "A"), NOTE).note_id


def test_history_lists_date_and_author_never_contents(roster: Deps, noted: int) -> None:
    h = svc.history(roster, "U0P1", "S1")
    assert (h.student, h.school, h.total) == ("T.E. (S1)", "Birchwood Elementary", 1)
    (line,) = h.lines
    assert (line.note_id, line.author, line.service, line.can_open) == (
        noted,
        "Ana Reyes",
        "slp",
        True,
    )
    assert f"{line.held_on:%Y-%m-%d}" == "2026-11-24"
    assert not hasattr(line, "objective")


@pytest.mark.parametrize(
    ("user", "student", "outcome"),
    [
        ("U0P1", "S1", "listed, can open"),  # the provider who serves the student
        ("U0P1", "s1", "listed, can open"),  # ids are case-insensitive where people type them
        ("U0M1", "s1", "listed, can open"),
        ("U0M1", "S1", "listed, can open"),  # a manager
        ("U0P2", "S1", "You can only see the note history of students you serve."),
        ("U0P2", "S404", "You can only see the note history of students you serve."),
        ("U0M1", "S404", "I don't know a student with the id S404."),
        ("U0NOBODY", "S1", "I don't have you in the roster"),
    ],
)
def test_who_may_see_a_students_history(
    roster: Deps, noted: int, user: str, student: str, outcome: str
) -> None:
    if outcome.startswith("listed"):
        assert [line.can_open for line in svc.history(roster, user, student).lines] == [True]
        return
    with pytest.raises((NotAllowed, NotFound), match=outcome):
        svc.history(roster, user, student)


def audit(deps: Deps) -> list[tuple[str, str, str]]:
    with deps.session_factory() as s:
        rows = s.scalars(
            select(m.AuditLog)
            .where(m.AuditLog.action.startswith("soap.view"))
            .order_by(m.AuditLog.id)
        )
        return [(a.actor, a.action, a.subject_id) for a in rows]


def test_author_and_managers_open_a_note_and_each_opening_is_audited(
    roster: Deps, noted: int
) -> None:
    mine = svc.open_note(roster, "U0P1", noted)
    assert (mine.objective, mine.author, mine.student) == (NOTE.objective, "Ana Reyes", "T.E. (S1)")
    assert svc.open_note(roster, "U0M1", noted).plan == "Continue"
    svc.open_note(roster, "U0M1", noted)
    assert audit(roster) == [
        ("provider:P1", "soap.view", str(noted)),
        ("manager:M1", "soap.view", str(noted)),
        ("manager:M1", "soap.view", str(noted)),
    ]


@pytest.mark.parametrize(
    ("user", "message", "audited"),
    [
        ("U0P2", "Only the note's author and managers can open a SOAP note.", "provider:P2"),
        ("U0NOBODY", "I don't have you in the roster", None),
    ],
)
def test_others_cannot_open_a_note_and_the_attempt_is_audited(
    roster: Deps, noted: int, user: str, message: str, audited: str | None
) -> None:
    with pytest.raises(NotAllowed, match=message):
        svc.open_note(roster, user, noted)
    expected = [(audited, "soap.view_denied", str(noted))] if audited else []
    assert audit(roster) == expected


def test_missing_note_and_bad_student_ids(roster: Deps, noted: int) -> None:
    # A missing note and someone else's get the same answer, so note ids can't be probed.
    with pytest.raises(NotAllowed) as missing:
        svc.open_note(roster, "U0P2", 424242)
    with pytest.raises(NotAllowed) as other:
        svc.open_note(roster, "U0P2", noted)
    assert missing.value.message == other.value.message
    for bad in ("", "S1 S2", "<@U1>", "x" * 80):
        with pytest.raises(InvalidInput, match="Usage"):
            svc.parse_student_id(bad)
    assert svc.parse_student_id(" S1 ") == "S1"


def test_a_missing_session_and_someone_elses_get_the_same_answer(roster: Deps) -> None:
    with pytest.raises(NotAllowed) as missing:
        svc.session_for_note(roster, "U0P2", 424242)
    with pytest.raises(NotAllowed) as other:
        svc.session_for_note(roster, "U0P2", sid(roster, "A"))
    assert missing.value.message == other.value.message == svc.NOT_YOURS

"""Services: SOAP notes — which sessions still need one, saving a note once, a student's note
history, and opening a note (author and managers only, every opening audited).

Note contents never leave this module except inside ``NoteView`` (shown only in a modal), and
never reach a log: a database error while saving is re-raised without its SQL parameters.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.sessions import NOTE_STATUSES, NoteText, needs_note, note_from_form
from bot.domain.vocabulary import SessionStatus
from bot.services.caseload import student_label
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound, Unavailable
from bot.services.people import Person, identify, require_known
from bot.services.scope import Refused, audited, districts_of, student_in_scope
from storage import models as m
from storage.queries import find_student_id

log = logging.getLogger(__name__)

TS = m.TherapySession
MAX_CHOICES = 100  # a static_select holds at most 100 options
MAX_HISTORY = 20
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ONLY_PROVIDERS = (
    "Only providers write SOAP notes. To see a student's notes, use `/soap history S123`."
)
NOT_YOURS = "Only the session's own provider can write its note."
NOTE_NOT_YOURS = "Only the note's author and managers can open a SOAP note."
HISTORY_NOT_YOURS = "You can only see the note history of students you serve."


@dataclass(frozen=True)
class NoteSession:
    """A session a note can be written for, as the form shows it."""

    session_id: int
    student_id: str
    student: str
    service: str
    school: str
    when: datetime  # in the provider's zone
    tz: str  # the provider's zone
    minutes: int
    group: bool


def _provider(person: Person) -> m.Provider:
    require_known(person)
    if person.provider is None:
        raise NotAllowed(ONLY_PROVIDERS)
    return person.provider


def _note_sessions(
    s: Session, rows: list[tuple[m.TherapySession, m.Student, str]], tz: str, names: bool
) -> list[NoteSession]:
    keys = {sess.session_key for sess, _, _ in rows}
    grouped: set[str] = set()
    if keys:
        q = (
            select(TS.session_key)
            .where(TS.session_key.in_(keys))
            .group_by(TS.session_key)
            .having(func.count() > 1)
        )
        grouped = set(s.scalars(q))
    zone = ZoneInfo(tz)
    return [
        NoteSession(
            sess.id,
            st.id,
            student_label(st, names),
            sess.service,
            school,
            sess.starts_at.astimezone(zone),
            tz,
            sess.minutes,
            sess.session_key in grouped,
        )
        for sess, st, school in rows
    ]


def sessions_awaiting_note(deps: Deps, slack_user_id: str) -> list[NoteSession]:
    """The provider's sessions that happened and have no note yet, newest first."""
    now = deps.clock.now()
    with deps.session_factory() as s:
        provider = _provider(identify(s, slack_user_id, deps.settings.org_timezone))
        q = (
            select(TS, m.Student, m.School.name)
            .join(m.Student, m.Student.id == TS.student_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(
                TS.provider_id == provider.id,
                TS.note_done_at.is_(None),
                TS.status.in_(NOTE_STATUSES),
                TS.starts_at <= now,
            )
            .order_by(TS.starts_at.desc(), TS.id)
            .limit(MAX_CHOICES + 20)  # a few may still be running; they drop out below
        )
        rows = [
            (sess, st, school)
            for sess, st, school in s.execute(q)
            if needs_note(sess.status, sess.starts_at, sess.minutes, now)
        ][:MAX_CHOICES]
        return _note_sessions(s, rows, provider.timezone, deps.settings.show_student_names)


def _check_writable(
    sess: m.TherapySession | None, session_id: int, provider: m.Provider, now: datetime
) -> None:
    # A missing session and someone else's get the same answer: ids can't be probed.
    if sess is None or sess.provider_id != provider.id:
        raise Refused(
            NOT_YOURS, action="soap.write_denied", subject_type="session",
            subject_id=str(session_id), reason="not_found" if sess is None else "not_own",
        )  # fmt: skip
    if sess.status not in NOTE_STATUSES:
        word = "was cancelled" if sess.status == SessionStatus.CANCELLED else "was a no-show"
        raise Conflict(f"That session {word}, so it needs no note.")
    if sess.starts_at > now:
        raise InvalidInput("That session hasn't happened yet. Write its note afterwards.")


@audited
def session_for_note(deps: Deps, slack_user_id: str, session_id: int) -> NoteSession:
    """The one session a "Write note" button names, if this person may write its note."""
    now = deps.clock.now()
    with deps.session_factory() as s:
        provider = _provider(identify(s, slack_user_id, deps.settings.org_timezone))
        sess = s.get(TS, session_id)
        _check_writable(sess, session_id, provider, now)
        assert sess is not None
        if sess.note_done_at is not None:
            raise Conflict("The note for that session is already written.")
        student = s.get(m.Student, sess.student_id)
        school = s.get(m.School, student.school_id) if student else None
        if student is None or school is None:
            raise NotFound("That session's student is no longer in the roster.")
        return _note_sessions(
            s, [(sess, student, school.name)], provider.timezone, deps.settings.show_student_names
        )[0]


# --- saving --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedNote:
    note_id: int
    session_id: int
    student: str
    when: datetime  # in the provider's zone
    already: bool


@audited
def save_note(deps: Deps, slack_user_id: str, session_id: int, note: NoteText) -> SavedNote:
    """Store the note and mark the session's note done, once (a double submit saves once)."""
    checked, errors = note_from_form(note.subjective, note.objective, note.assessment, note.plan)
    if checked is None:
        raise InvalidInput(next(iter(errors.values())))
    now = deps.clock.now()
    label, when = "?", now
    try:
        with deps.session_factory.begin() as s:
            person = identify(s, slack_user_id, deps.settings.org_timezone)
            provider = _provider(person)
            sess = s.get(TS, session_id)
            _check_writable(sess, session_id, provider, now)
            assert sess is not None
            student = s.get(m.Student, sess.student_id)
            label = student_label(student, deps.settings.show_student_names) if student else "?"
            when = sess.starts_at.astimezone(ZoneInfo(provider.timezone))
            # Conditional, so a session cancelled (or noted) since the check above is never both
            # cancelled and noted: the row must still need its note when the write lands.
            claimed = s.execute(
                update(TS)
                .where(
                    TS.id == session_id,
                    TS.note_done_at.is_(None),
                    TS.status.in_([str(st) for st in NOTE_STATUSES]),
                )
                .values(note_done_at=now, status=SessionStatus.HELD)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                existing = _note_id(s, session_id)
                if not existing:  # cancelled or marked a no-show a moment ago
                    raise Conflict("That session was just marked cancelled or a no-show.")
                # written already: a double submit, or a second tab
                return SavedNote(existing, session_id, label, when, True)
            row = m.SoapNote(
                session_id=session_id,
                student_id=sess.student_id,
                author_provider_id=provider.id,
                subjective=checked.subjective,
                objective=checked.objective,
                assessment=checked.assessment,
                plan=checked.plan,
                created_at=now,
            )
            s.add(row)
            s.flush()
            note_id = row.id
            s.add(
                m.AuditLog(
                    at=now,
                    actor=person.actor,
                    action="soap.write",
                    subject_type="soap_note",
                    subject_id=str(note_id),
                    before=None,
                    after={"session_id": session_id},
                )
            )
    except IntegrityError:
        # Someone saved this session's note between our read and our write.
        with deps.session_factory() as s:
            existing = _note_id(s, session_id)
        if not existing:
            raise Conflict(
                "That session changed while you were writing. Please try again."
            ) from None
        return SavedNote(existing, session_id, label, when, True)
    except DBAPIError as exc:
        # The parameters of a failed statement hold the note's text: never let them reach a log.
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            raise Unavailable() from None
        raise RuntimeError(f"soap note not saved: {type(exc.orig).__name__}") from None
    log.info("soap.saved", extra={"session": session_id, "note": note_id})
    return SavedNote(note_id, session_id, label, when, False)


def _note_id(s: Session, session_id: int) -> int:
    found = s.scalar(select(m.SoapNote.id).where(m.SoapNote.session_id == session_id))
    return int(found or 0)


# --- history and reading -------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    note_id: int
    held_on: datetime  # the session's start, in the viewer's zone
    service: str
    author: str
    can_open: bool


@dataclass(frozen=True)
class History:
    student_id: str
    student: str
    school: str
    lines: tuple[HistoryLine, ...]
    total: int


def _serves(s: Session, provider_id: str, student_id: str) -> bool:
    assigned = s.scalar(
        select(m.Assignment.id).where(
            m.Assignment.provider_id == provider_id, m.Assignment.student_id == student_id
        )
    )
    if assigned is not None:
        return True
    seen = s.scalar(
        select(TS.id).where(TS.provider_id == provider_id, TS.student_id == student_id).limit(1)
    )
    return seen is not None


def parse_student_id(text: str) -> str:
    value = (text or "").strip()
    if not STUDENT_ID.fullmatch(value):
        raise InvalidInput("Usage: `/soap history S123` — the student's id.")
    return value


@audited
def history(deps: Deps, slack_user_id: str, student_id: str) -> History:
    """Past notes of a student: date, service and author, never contents."""
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        student_id = find_student_id(s, student_id) or student_id  # ids are case-insensitive
        student = s.get(m.Student, student_id)
        # A student who does not exist and one who is not yours (not served, or in a district
        # a scoped manager does not serve) get the same answer, so ids can't be probed.
        if person.is_manager:
            allowed = districts_of(s, slack_user_id) is None or (
                student is not None and student_in_scope(s, slack_user_id, student_id)
            )
        else:
            allowed = person.provider is not None and _serves(s, person.provider.id, student_id)
        if not allowed:
            raise Refused(
                HISTORY_NOT_YOURS, action="soap.history_denied", subject_type="student",
                subject_id=student_id, reason="not_own" if student else "not_found",
            )  # fmt: skip
        if student is None:
            raise NotFound(f"I don't know a student with the id {student_id}.")
        school = s.get(m.School, student.school_id)
        q = (
            select(m.SoapNote, TS.starts_at, TS.service, m.Provider.name)
            .join(TS, TS.id == m.SoapNote.session_id)
            .join(m.Provider, m.Provider.id == m.SoapNote.author_provider_id)
            .where(m.SoapNote.student_id == student_id)
            .order_by(TS.starts_at.desc(), m.SoapNote.id.desc())
        )
        rows = list(s.execute(q))
        zone = ZoneInfo(person.timezone)
        mine = person.provider.id if person.provider else None
        lines = tuple(
            HistoryLine(
                note.id,
                starts_at.astimezone(zone),
                service,
                author,
                person.is_manager or note.author_provider_id == mine,
            )
            for note, starts_at, service, author in rows[:MAX_HISTORY]
        )
        return History(
            student.id,
            student_label(student, deps.settings.show_student_names),
            school.name if school else student.school_id,
            lines,
            len(rows),
        )


@dataclass(frozen=True)
class NoteView:
    note_id: int
    student: str
    service: str
    held_on: datetime  # in the viewer's zone
    author: str
    subjective: str
    objective: str
    assessment: str
    plan: str
    written_at: datetime  # in the viewer's zone


def _audit_view(s: Session, person: Person, note_id: int, action: str, now: datetime) -> None:
    s.add(
        m.AuditLog(
            at=now,
            actor=person.actor,
            action=action,
            subject_type="soap_note",
            subject_id=str(note_id),
            before=None,
            after=None,
        )
    )


@audited
def open_note(deps: Deps, slack_user_id: str, note_id: int) -> NoteView:
    """A note's contents, for its author and the managers of its student's district only; every
    opening, and every refusal, is audited."""
    now = deps.clock.now()
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        note = s.get(m.SoapNote, note_id)
        author_id = note.author_provider_id if note else None
        allowed = (person.provider is not None and person.provider.id == author_id) or (
            person.is_manager
            and note is not None
            and student_in_scope(s, slack_user_id, note.student_id)
        )
    if note is None or not allowed:  # the same answer, so note ids can't be probed
        raise Refused(
            NOTE_NOT_YOURS, action="soap.view_denied", subject_type="soap_note",
            subject_id=str(note_id), reason="not_found" if note is None else "not_own",
        )  # fmt: skip
    with deps.session_factory.begin() as s:
        note = s.get(m.SoapNote, note_id)
        sess = s.get(TS, note.session_id) if note else None
        student = s.get(m.Student, note.student_id) if note else None
        author = s.get(m.Provider, note.author_provider_id) if note else None
        if note is None or sess is None or student is None:
            raise NotFound("That note no longer exists.")
        _audit_view(s, person, note_id, "soap.view", now)
        zone = ZoneInfo(person.timezone)
        return NoteView(
            note.id,
            student_label(student, deps.settings.show_student_names),
            sess.service,
            sess.starts_at.astimezone(zone),
            author.name if author else note.author_provider_id,
            note.subjective,
            note.objective,
            note.assessment,
            note.plan,
            note.created_at.astimezone(zone),
        )

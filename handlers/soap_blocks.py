"""Slack edge: pure Block Kit builders for the SOAP note form, the saved note, history and a note.

Note contents appear only in ``note_view`` (a modal for the author or a manager); every other
builder shows dates, services, initials and ids.
"""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.labels import zone_abbr
from bot.domain.sessions import FIELD_LIMIT
from bot.services.soap import History, NoteSession, NoteView, SavedNote
from bot.views.format import bold, plural
from handlers.common import escape

OPTION_TEXT_LIMIT = 75
OBJECTIVE_HINT = "Required unless Trials are filled in: the data you took in the session."


class SoapIds(StrEnum):
    CALLBACK = "soap_note"
    NOTE_CALLBACK = "soap_note_read"
    SESSION_BLOCK = "soap_session"
    SESSION_SELECT = "soap_session_select"
    TRIALS_BLOCK = "soap_trials"
    TRIALS_INPUT = "soap_trials_input"
    SUBJECTIVE_BLOCK = "soap_subjective"
    SUBJECTIVE_INPUT = "soap_subjective_input"
    OBJECTIVE_BLOCK = "soap_objective"
    OBJECTIVE_INPUT = "soap_objective_input"
    ASSESSMENT_BLOCK = "soap_assessment"
    ASSESSMENT_INPUT = "soap_assessment_input"
    PLAN_BLOCK = "soap_plan"
    PLAN_INPUT = "soap_plan_input"
    WRITE_NOTE = "soap_write_note"  # a button whose value is a session id
    VIEW_NOTE = "soap_view_note"  # a button whose value is a note id


# Form field name (as ``note_from_form`` reports problems) -> (block, input) ids.
FIELDS: dict[str, tuple[SoapIds, SoapIds]] = {
    "trials": (SoapIds.TRIALS_BLOCK, SoapIds.TRIALS_INPUT),
    "subjective": (SoapIds.SUBJECTIVE_BLOCK, SoapIds.SUBJECTIVE_INPUT),
    "objective": (SoapIds.OBJECTIVE_BLOCK, SoapIds.OBJECTIVE_INPUT),
    "assessment": (SoapIds.ASSESSMENT_BLOCK, SoapIds.ASSESSMENT_INPUT),
    "plan": (SoapIds.PLAN_BLOCK, SoapIds.PLAN_INPUT),
}
PRIVACY = (
    "Only you and managers can open this note. It is never posted to a channel or a DM, "
    "and nobody else sees it in Slack."
)


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def session_text(x: NoteSession) -> str:
    """'Tue Nov 24 09:30 PT · Q.O. (S1001) · SLP' (plain text, no mrkdwn)."""
    group = " · group" if x.group else ""
    return f"{x.when:%a %b %-d %H:%M} {zone_abbr(x.tz)} · {x.student} · {x.service.upper()}{group}"


def _option(x: NoteSession) -> Option:
    """Date, time, the student's initials and the school: what a provider tells sessions by."""
    who = x.student.removesuffix(f" ({x.student_id})")
    text = f"{x.when:%a %b %-d %H:%M} {zone_abbr(x.tz)} · {who} · {x.school}"
    if len(text) > OPTION_TEXT_LIMIT:
        text = text[: OPTION_TEXT_LIMIT - 1] + "…"
    return Option(value=str(x.session_id), text=PlainTextObject(text=text))


def _text_input(
    block: SoapIds, action: SoapIds, label: str, *, optional: bool, hint: str | None = None
) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(action_id=action, multiline=True, max_length=FIELD_LIMIT),
    )


def note_form(choices: list[NoteSession] | None = None, fixed: NoteSession | None = None) -> View:
    """The SOAP form: for one session (``fixed``), or with a choice of ``choices``."""
    blocks: list[Block] = []
    if fixed is not None:
        blocks.append(
            SectionBlock(
                text=_md(
                    f"{bold('Session:')} {escape(session_text(fixed))}\n{escape(fixed.school)}"
                )
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=SoapIds.SESSION_BLOCK,
                label="Session",
                hint="Sessions that happened and have no note yet, newest first.",
                element=StaticSelectElement(
                    action_id=SoapIds.SESSION_SELECT,
                    placeholder="Choose a session",
                    options=[_option(x) for x in choices or []],
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=SoapIds.TRIALS_BLOCK,
            label="Trials (one goal per line)",
            optional=True,
            hint=(
                "e.g. 8/10 with cues, 80% or 8 of 10 (min cues). I add them to the Objective, "
                "with any cue level you write after the score."
            ),
            element=PlainTextInputElement(
                action_id=SoapIds.TRIALS_INPUT,
                multiline=True,
                max_length=500,
                placeholder="8/10",
            ),
        ),
        _text_input(
            SoapIds.SUBJECTIVE_BLOCK, SoapIds.SUBJECTIVE_INPUT, "Subjective", optional=True
        ),
        _text_input(
            SoapIds.OBJECTIVE_BLOCK,
            SoapIds.OBJECTIVE_INPUT,
            "Objective",
            optional=True,  # required unless Trials fill it; checked on submit
            hint=OBJECTIVE_HINT,
        ),
        _text_input(
            SoapIds.ASSESSMENT_BLOCK, SoapIds.ASSESSMENT_INPUT, "Assessment", optional=True
        ),
        _text_input(SoapIds.PLAN_BLOCK, SoapIds.PLAN_INPUT, "Plan", optional=True),
        ContextBlock(elements=[_md(PRIVACY)]),
    ]
    return View(
        type="modal",
        callback_id=SoapIds.CALLBACK,
        title="SOAP note",
        submit="Save",
        close="Cancel",
        private_metadata=str(fixed.session_id) if fixed else "",
        blocks=blocks,
    )


def saved_view(saved: SavedNote) -> View:
    head = "This note was already saved — nothing changed." if saved.already else "✅ Note saved."
    return View(
        type="modal",
        title="SOAP note",
        close="Done",
        blocks=[
            SectionBlock(
                text=_md(
                    f"{head}\n{escape(saved.student)}, session of {saved.when:%a %b %-d %H:%M}."
                )
            )
        ],
    )


def none_waiting_text() -> str:
    return "No sessions are waiting for a note. 🎉"


# --- history and reading -------------------------------------------------------------------


def history_blocks(h: History) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(
            text=_md(
                f"{bold(f'SOAP notes for {escape(h.student)}')} · {escape(h.school)}\n"
                f"{plural(h.total, 'note')}, newest first. Contents open in a "
                "private window for the author and managers only."
            )
        )
    ]
    if not h.lines:
        blocks.append(ContextBlock(elements=[_md("No notes yet.")]))
        return blocks
    blocks.append(DividerBlock())
    for line in h.lines:
        text = f"{line.held_on:%a %b %-d, %Y} · {line.service.upper()} · by {escape(line.author)}"
        button = (
            ButtonElement(text="Open", action_id=SoapIds.VIEW_NOTE, value=str(line.note_id))
            if line.can_open
            else None
        )
        blocks.append(SectionBlock(text=_md(text), accessory=button))
    if h.total > len(h.lines):
        more = plural(h.total - len(h.lines), "older note")
        blocks.append(ContextBlock(elements=[_md(f"…and {more}.")]))
    return blocks


def _field(label: str, value: str) -> list[Block]:
    # Plain text: a note is shown exactly as typed, never read as mrkdwn or a mention.
    return [
        SectionBlock(text=_md(bold(label))),
        SectionBlock(text=PlainTextObject(text=value or "—", emoji=False)),
    ]


def note_view(v: NoteView) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=f"{v.student} · {v.service.upper()}"[:150]),
        ContextBlock(
            elements=[
                _md(
                    f"Session {v.held_on:%a %b %-d, %Y %H:%M} · by {escape(v.author)} · "
                    f"written {v.written_at:%b %-d %H:%M}"
                )
            ]
        ),
    ]
    for label, value in (
        ("Subjective", v.subjective),
        ("Objective", v.objective),
        ("Assessment", v.assessment),
        ("Plan", v.plan),
    ):
        blocks += _field(label, value)
    blocks.append(ContextBlock(elements=[_md("This opening is recorded in the audit log.")]))
    return View(
        type="modal",
        callback_id=SoapIds.NOTE_CALLBACK,
        title="SOAP note",
        close="Close",
        blocks=blocks,
    )


def usage_text(due_hours: int) -> str:
    return (
        bold("SOAP notes") + "\n"
        "• `/soap` — write a note for a session that has none yet\n"
        "• `/soap history S123` — a student's past notes (date and author); open one to read it\n"
        f"Notes are due {plural(due_hours, 'hour')} after the session."
    )

"""Views: the deadline nudge DM, as Block Kit.

Used by the Slack gateway when delivery hands it a ``NudgeMessage``, and by the nudge listeners
for the ids of the DM's buttons.

A DM names students by initials and id (names only when ``SHOW_STUDENT_NAMES`` allows), with
school, service and dates; never diagnoses, goals or note text. Its notification text carries
counts only. Roster text placed in mrkdwn is escaped.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.domain.deadlines import Rule
from bot.domain.labels import CANCEL_CHOICES
from bot.services.hours_notice import HoursChanged
from bot.services.nudges import (
    DeadlineLine,
    LicenceLine,
    NewStudents,
    NoteLine,
    Notice,
    NudgeMessage,
)
from bot.services.schedule_effects import ScheduleChanged
from bot.views.blocks import escape, md, to_dicts
from bot.views.format import ago, bold, plural
from bot.views.hours_changed import hours_changed_blocks
from bot.views.new_students import new_students_text
from bot.views.schedule_change import schedule_changed_blocks

MAX_BLOCKS = 50
MAX_REVIEW_PICKERS = 12  # annual reviews shown with their own "Review held" date picker
MAX_NOTE_BUTTONS = 20  # overdue notes shown with their own menu (write / cancelled by… / no-show)
LINES_PER_SECTION = 15  # keeps a section's text well under Slack's 3,000 characters


class NudgeIds(StrEnum):
    REVIEW_HELD = "nudge_review_held"  # a date picker: the day the review was held
    NOTE_WRITTEN = "nudge_note_written"  # reminders sent before the menu: opens the SOAP form
    # Write note | Cancelled by me | Cancelled by the school | Student absent | It was a no-show
    NOTE_MENU = "nudge_note_menu"
    SNOOZE = "nudge_snooze"
    REVIEW_BLOCK = "nudge_review"  # block_id "nudge_review:<nudge id>"
    NOTE_BLOCK = "nudge_note"  # block_id "nudge_note:<session id>"
    ACTIONS = "nudge_actions"


def day(d: date) -> str:
    return f"{d:%a %b %-d}"


def _when(days_left: int) -> str:
    if days_left < 0:
        return bold(f"{plural(-days_left, 'day')} overdue")
    if days_left == 0:
        return bold("today")
    if days_left == 1:
        return "tomorrow"
    return f"in {plural(days_left, 'day')}"


def _sections(lines: list[str]) -> list[Block]:
    return [
        SectionBlock(text=md("\n".join(lines[i : i + LINES_PER_SECTION])))
        for i in range(0, len(lines), LINES_PER_SECTION)
    ]


def _deadline_text(line: DeadlineLine) -> str:
    return (
        f"• {bold(escape(line.student))} · {escape(line.school)} — due {day(line.due_on)} "
        f"({_when(line.days_left)})"
    )


def _note_text(note: NoteLine) -> str:
    late = f"due {ago(note.overdue_for)} ago"
    return (
        f"• {bold(escape(note.student))} · {escape(note.school)} — {escape(note.service.upper())} "
        f"session {day(note.held_on)} ({late})"
    )


def _licence_text(lic: LicenceLine) -> str:
    return (
        f"• Your {bold(escape(lic.state))} licence {escape(lic.number)} expires "
        f"{day(lic.expires_on)} ({_when(lic.days_left)}). Renew it to keep serving "
        f"{escape(lic.state)} students."
    )


def _review_blocks(lines: list[DeadlineLine]) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=md(bold("Annual IEP reviews")))]
    for line in lines[:MAX_REVIEW_PICKERS]:
        blocks.append(
            SectionBlock(
                block_id=f"{NudgeIds.REVIEW_BLOCK}:{line.nudge_id}",
                text=md(_deadline_text(line)),
                accessory=DatePickerElement(
                    action_id=NudgeIds.REVIEW_HELD,
                    placeholder="Review held on…",
                    confirm=ConfirmObject(
                        title="Review held?",
                        text="I'll record the review as held on the day you picked; "
                        "the next one falls due a year later.",
                        confirm="Record it",
                        deny="Cancel",
                    ),
                ),
            )
        )
    blocks += _sections([_deadline_text(line) for line in lines[MAX_REVIEW_PICKERS:]])
    return blocks


def _note_blocks(notes: tuple[NoteLine, ...], total: int) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=md(f"{bold('SOAP notes overdue')} ({total})")),
    ]
    for note in notes[:MAX_NOTE_BUTTONS]:
        blocks.append(
            SectionBlock(
                block_id=f"{NudgeIds.NOTE_BLOCK}:{note.session_id}",
                text=md(_note_text(note)),
                accessory=OverflowMenuElement(
                    action_id=NudgeIds.NOTE_MENU,
                    options=[
                        Option(text="Write the note", value=f"write:{note.session_id}"),
                        # A cancellation says who cancelled: the minutes rule owes a make-up
                        # for the provider's, not for the school's or an absence.
                        *(
                            Option(text=label, value=f"cancelled:{reason}:{note.session_id}")
                            for reason, (label, _) in CANCEL_CHOICES.items()
                        ),
                        Option(text="It was a no-show", value=f"no_show:{note.session_id}"),
                    ],
                ),
            )
        )
    blocks += _sections([_note_text(n) for n in notes[MAX_NOTE_BUTTONS:]])
    if total > len(notes):
        blocks.append(ContextBlock(elements=[md(f"…and {total - len(notes)} older ones.")]))
    return blocks


def _notice_text(notice: NewStudents | str) -> str:
    return new_students_text(notice) if isinstance(notice, NewStudents) else escape(notice)


def _notice_blocks(notice: Notice) -> list[Block]:
    if isinstance(notice, ScheduleChanged):
        return schedule_changed_blocks(notice)
    if isinstance(notice, HoursChanged):
        return hours_changed_blocks(notice)
    return [SectionBlock(text=md(_notice_text(notice)[:2900]))]


def nudge_text(msg: NudgeMessage) -> str:
    """The notification text: counts only, no student detail."""
    parts = []
    kinds = (
        (NewStudents, "new assignment", None),
        (ScheduleChanged, "availability change", None),
        (HoursChanged, "change to your hours", "changes to your hours"),
    )
    for kind, label, labels in kinds:
        n = sum(
            isinstance(x, kind) or (kind is NewStudents and isinstance(x, str)) for x in msg.notices
        )
        if n:
            parts.append(plural(n, label, labels))
    if msg.deadlines:
        parts.append(plural(len(msg.deadlines), "IEP deadline"))
    if msg.notes_total:
        parts.append(plural(msg.notes_total, "overdue SOAP note"))
    if msg.licences:
        parts.append(plural(len(msg.licences), "licence") + " expiring")
    return "Reminders: " + ", ".join(parts) if parts else "Reminders"


def nudge_blocks(msg: NudgeMessage) -> list[Block]:
    first = escape(msg.recipient_name.split()[0]) if msg.recipient_name.strip() else "there"
    head = f"Hi {first}, here is what needs you ({day(msg.today)}):"
    blocks: list[Block] = [SectionBlock(text=md(head))]
    blocks += [b for notice in msg.notices for b in _notice_blocks(notice)]
    reviews = [x for x in msg.deadlines if x.rule == Rule.ANNUAL_REVIEW]
    triennials = [x for x in msg.deadlines if x.rule == Rule.TRIENNIAL]
    if reviews:
        blocks += _review_blocks(reviews)
    if triennials:
        blocks.append(SectionBlock(text=md(bold("Triennial re-evaluations"))))
        blocks += _sections([_deadline_text(x) for x in triennials])
    if msg.notes:
        blocks += _note_blocks(msg.notes, msg.notes_total)
    if msg.licences:
        blocks.append(SectionBlock(text=md(bold("Licences"))))
        blocks += _sections([_licence_text(x) for x in msg.licences])
    footer: list[Block] = [
        DividerBlock(),
        ActionsBlock(
            block_id=NudgeIds.ACTIONS,
            elements=[
                ButtonElement(
                    text="Snooze until tomorrow", action_id=NudgeIds.SNOOZE, value=msg.batch_id
                )
            ],
        ),
    ]
    if len(blocks) + len(footer) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - len(footer) - 1]
        blocks.append(ContextBlock(elements=[md("…more than fits here.")]))
    return blocks + footer


def render_nudge(msg: NudgeMessage) -> tuple[str, list[dict[str, Any]]]:
    """Notification text and blocks of a nudge DM."""
    return nudge_text(msg), to_dicts(nudge_blocks(msg))

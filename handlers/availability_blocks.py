"""Slack edge: pure Block Kit builders for availability previews and schedules."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.labels import zone_label
from bot.domain.schedule import DAY_LABELS, WeeklyWindow, describe_day_lines, in_zone
from bot.services.availability import (
    EXAMPLES,
    Preview,
    Question,
    Saved,
    ScheduleView,
    Undone,
)
from bot.views.conflicts import effect_lines
from bot.views.format import bold
from bot.views.schedule import time_off_span, week_lines
from handlers.common import escape, to_dicts


class AvailabilityIds(StrEnum):
    SAVE = "availability_save"
    SAVE_DAYS = "availability_save_days"  # a replace of only the days the message named
    CANCEL_TIME_OFF = "availability_cancel_time_off"  # a stretch's Cancel in the time-off list
    CANCEL = "availability_cancel"
    UNDO = "availability_undo"
    BLOCK_ACTIONS = "availability_actions"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def _day_names(days: tuple[int, ...]) -> str:
    names = [DAY_LABELS[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _school_side(
    windows: tuple[WeeklyWindow, ...], zones: tuple[str, ...], monday: date, whose: str = "your"
) -> list[Block]:
    blocks: list[Block] = []
    for z in zones:
        converted = in_zone(windows, z, monday)
        if converted:
            blocks.append(
                ContextBlock(
                    elements=[
                        _md(
                            f"In {zone_label(z)} time ({whose} schools): "
                            + "; ".join(describe_day_lines(converted))
                        )
                    ]
                )
            )
    return blocks


def preview_blocks(p: Preview) -> list[Block]:
    who = f"{escape(p.provider_name)}'s" if p.on_behalf else "your"
    zone = zone_label(p.tz)
    blocks: list[Block] = []
    if p.time_off is not None:
        person = escape(p.provider_name) if p.on_behalf else "you"
        if p.cancel_time_off:
            head = f"{bold(f'Cancel time off for {person}:')} {time_off_span(p.time_off)}"
            tail = "The sessions it cancelled that are still ahead go back on the schedule."
        else:
            head = f"{bold(f'Time off for {person}:')} {time_off_span(p.time_off)}"
            tail = (
                "Sessions in those hours will be cancelled, and reminders wait until they end."
                if p.time_off.hours
                else "Sessions on these days will be cancelled, and reminders wait until the "
                "time off ends."
            )
        blocks.append(SectionBlock(text=_md(f"{head}\n{tail}")))
    else:
        when = f" from {p.effective_from:%a %b %-d}" if p.effective_from else ""
        if p.effective_to is not None:
            when = f" until {p.effective_to:%a %b %-d}"
        verb = {"replace": "Replace", "add": "Add to", "remove": "Remove from"}[p.intent]
        title = bold(f"{verb} {who} weekly availability{when}")
        blocks.append(SectionBlock(text=_md(f"{title} ({zone} time)")))
        blocks.append(
            SectionBlock(
                fields=[
                    _md(bold("Before") + "\n" + week_lines(p.before)),
                    _md(bold("After") + "\n" + week_lines(p.after)),
                ]
            )
        )
        whose = f"{escape(p.provider_name)}'s" if p.on_behalf else "your"
        blocks.extend(_school_side(p.after, p.school_zones, p.monday, whose))
        if p.effective_to is not None:
            back = p.effective_to + timedelta(days=1)
            blocks.append(
                ContextBlock(elements=[_md(f"The usual hours come back on {back:%a %b %-d}.")])
            )
        if p.dropped_days:
            blocks.append(
                SectionBlock(text=_md(f"⚠️ {_day_names(p.dropped_days)} hours will be removed."))
            )
        if p.unchanged:
            blocks.append(
                ContextBlock(
                    elements=[_md("This would not change anything, so there is nothing to save.")]
                )
            )
    effects = effect_lines(p.effects, whose="their" if p.on_behalf else "your")
    if effects:
        blocks.append(SectionBlock(text=_md("\n".join(f"⚠️ {line}" for line in effects))))
    if p.assumptions:
        blocks.append(
            ContextBlock(elements=[_md("I " + "; ".join(escape(a) for a in p.assumptions) + ".")])
        )
    if p.unchanged:
        return blocks
    blocks.append(ActionsBlock(block_id=AvailabilityIds.BLOCK_ACTIONS, elements=_buttons(p)))
    return blocks


def _buttons(p: Preview) -> list[ButtonElement]:
    cancel = ButtonElement(text="Cancel", action_id=AvailabilityIds.CANCEL, value=p.pending_id)
    if not p.dropped_days:
        save = ButtonElement(
            text="Save", action_id=AvailabilityIds.SAVE, value=p.pending_id, style="primary"
        )
        return [save, cancel]
    whole = ButtonElement(
        text="Save whole week", action_id=AvailabilityIds.SAVE, value=p.pending_id
    )
    only = ButtonElement(
        text=f"Change {_day_names(p.named_days)} only",
        action_id=AvailabilityIds.SAVE_DAYS,
        value=p.pending_id,
        style="primary",
    )
    return [whole, only, cancel]


def preview_text(p: Preview) -> str:
    return "Time off preview" if p.time_off else "Availability preview: Save or Cancel"


def question_blocks(q: Question) -> list[Block]:
    examples = "\n".join(f"• {e}" for e in EXAMPLES)
    return [
        SectionBlock(text=_md(f"{escape(q.question)}\n\nFor example:\n{examples}")),
        ContextBlock(elements=[_md("Nothing was saved. `/availability help` shows every form.")]),
    ]


# A message holds at most 50 blocks; the week, school zones and upcoming changes need a few.
MAX_LISTED_TIME_OFF = 20


def schedule_blocks(v: ScheduleView, *, title: str | None = None) -> list[Block]:
    who = escape(v.provider_name) if v.on_behalf else "Your"
    heading = title or (f"{who}'s availability" if v.on_behalf else "Your availability")
    blocks: list[Block] = [
        SectionBlock(
            text=_md(f"{bold(heading)} ({zone_label(v.tz)} time)\n" + week_lines(v.windows))
        ),
    ]
    whose = f"{escape(v.provider_name)}'s" if v.on_behalf else "your"
    blocks.extend(_school_side(v.windows, v.school_zones, v.monday, whose))
    for day, windows in v.upcoming:
        blocks.append(
            SectionBlock(text=_md(bold(f"From {day:%a %b %-d}:") + "\n" + week_lines(windows)))
        )
    if v.time_off:
        blocks.append(SectionBlock(text=_md(bold("Time off"))))
        for t in v.time_off[:MAX_LISTED_TIME_OFF]:
            cancel = None
            if t.id is not None:
                cancel = ButtonElement(
                    text="Cancel", action_id=AvailabilityIds.CANCEL_TIME_OFF, value=str(t.id)
                )
            blocks.append(SectionBlock(text=_md(f"• {time_off_span(t)}"), accessory=cancel))
        if len(v.time_off) > MAX_LISTED_TIME_OFF:
            more = len(v.time_off) - MAX_LISTED_TIME_OFF
            blocks.append(ContextBlock(elements=[_md(f"…and {more} more.")]))
    else:
        blocks.append(ContextBlock(elements=[_md("No time off coming up.")]))
    return blocks


def saved_blocks(saved: Saved) -> list[Block]:
    head = "Already saved — nothing changed twice." if saved.already else f"✅ {saved.summary}"
    blocks: list[Block] = [SectionBlock(text=_md(head))]
    effects = [] if saved.already else effect_lines(saved.effects, saved=True)
    if effects:
        blocks.append(ContextBlock(elements=[_md("\n".join(effects))]))
    blocks.append(DividerBlock())
    blocks.extend(schedule_blocks(saved.view))
    if not saved.already:
        blocks.append(
            ActionsBlock(
                block_id=AvailabilityIds.BLOCK_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Undo", action_id=AvailabilityIds.UNDO, value=saved.pending_id
                    ),
                ],
            )
        )
    return blocks


def undone_blocks(u: Undone) -> list[Block]:
    whose = f"{escape(u.view.provider_name)}'s" if u.view.on_behalf else "Your"
    head = "Already undone." if u.already else f"↩️ Undone. {whose} availability is back as it was."
    return [SectionBlock(text=_md(head)), DividerBlock(), *schedule_blocks(u.view)]


HELP = (
    bold("Keep your availability current in plain words")
    + """
• `/availability Tue 8-11 PT` — your whole weekly schedule (replaces it)
• `/availability M/W 8-12, Fri 1-4` — several days at once
• `/availability add Fri 1-4` or `also Wed mornings` — add hours
• `/availability no longer Thursdays after 2` or `drop Mondays` — remove hours
• `/availability out Dec 23 - Jan 2`, `OOO next week`, `back Jan 4` — time off
• `/availability starting Jan 5 M-F 8-3` — a change that starts later
• `/availability` — show your week and time off
Days: Mon, Tu, Thurs, M-F, MWF, T/Th, weekdays. Times: 8, 8:30, 0830, noon; a bare 1–6 means pm \
(“8-3” is 8 am–3 pm). Zones: PT MT CT ET AKT HT, Arizona, or any name like America/Boise; \
without one, your own zone applies. You can also just DM me the same words.
Managers: `/availability @someone Tue 8-11 PT` sets a provider's hours."""
)


def help_blocks() -> list[Block]:
    return [SectionBlock(text=_md(HELP))]


def render_result(result: Preview | Question | ScheduleView) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks that answer an availability message, whatever it turned out to be."""
    if isinstance(result, Preview):
        return preview_text(result), to_dicts(preview_blocks(result))
    if isinstance(result, Question):
        return result.question, to_dicts(question_blocks(result))
    return "Your availability", to_dicts(schedule_blocks(result))

"""Slack edge: pure Block Kit builders for availability previews and schedules."""

from __future__ import annotations

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

from bot.domain.availability_text import zone_label
from bot.domain.schedule import WeeklyWindow, describe_day_lines, in_zone
from bot.services.availability import (
    EXAMPLES,
    Preview,
    Question,
    Saved,
    ScheduleView,
    TimeOffSpan,
    Undone,
)
from bot.views.format import bold
from handlers.common import escape, to_dicts


class AvailabilityIds(StrEnum):
    SAVE = "availability_save"
    CANCEL = "availability_cancel"
    UNDO = "availability_undo"
    BLOCK_ACTIONS = "availability_actions"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def _week_lines(windows: tuple[WeeklyWindow, ...]) -> str:
    lines = describe_day_lines(windows)
    return "\n".join(f"`{line}`" for line in lines) if lines else "_no hours_"


def _span(t: TimeOffSpan) -> str:
    if t.start == t.end:
        return f"{t.start:%a %b %-d, %Y}"
    return f"{t.start:%a %b %-d} – {t.end:%a %b %-d, %Y}"


def _school_side(windows: tuple[WeeklyWindow, ...], zones: tuple[str, ...], monday) -> list[Block]:  # type: ignore[no-untyped-def]
    blocks: list[Block] = []
    for z in zones:
        converted = in_zone(windows, z, monday)
        if converted:
            blocks.append(
                ContextBlock(
                    elements=[
                        _md(
                            f"In {zone_label(z)} time (your schools): "
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
        blocks.append(
            SectionBlock(
                text=_md(
                    f"*Time off for {who.removesuffix(chr(39) + 's') if p.on_behalf else 'you'}:* "
                    f"{_span(p.time_off)}\nNo sessions will be proposed on these days."
                )
            )
        )
    else:
        when = f" from {p.effective_from:%a %b %-d}" if p.effective_from else ""
        verb = {"replace": "Replace", "add": "Add to", "remove": "Remove from"}[p.intent]
        title = bold(f"{verb} {who} weekly availability{when}")
        blocks.append(SectionBlock(text=_md(f"{title} ({zone} time)")))
        blocks.append(
            SectionBlock(
                fields=[
                    _md("*Before*\n" + _week_lines(p.before)),
                    _md("*After*\n" + _week_lines(p.after)),
                ]
            )
        )
        blocks.extend(_school_side(p.after, p.school_zones, p.monday))
        if p.unchanged:
            blocks.append(ContextBlock(elements=[_md("This would not change anything.")]))
    if p.assumptions:
        blocks.append(
            ContextBlock(elements=[_md("I " + "; ".join(escape(a) for a in p.assumptions) + ".")])
        )
    blocks.append(
        ActionsBlock(
            block_id=AvailabilityIds.BLOCK_ACTIONS,
            elements=[
                ButtonElement(
                    text="Save", action_id=AvailabilityIds.SAVE, value=p.pending_id, style="primary"
                ),
                ButtonElement(text="Cancel", action_id=AvailabilityIds.CANCEL, value=p.pending_id),
            ],
        )
    )
    return blocks


def preview_text(p: Preview) -> str:
    return "Time off preview" if p.time_off else "Availability preview: Save or Cancel"


def question_blocks(q: Question) -> list[Block]:
    examples = "\n".join(f"• {e}" for e in EXAMPLES)
    return [
        SectionBlock(text=_md(f"{escape(q.question)}\n\nFor example:\n{examples}")),
        ContextBlock(elements=[_md("Nothing was saved. `/availability help` shows every form.")]),
    ]


def schedule_blocks(v: ScheduleView, *, title: str | None = None) -> list[Block]:
    who = escape(v.provider_name) if v.on_behalf else "Your"
    heading = title or (f"{who}'s availability" if v.on_behalf else "Your availability")
    blocks: list[Block] = [
        SectionBlock(text=_md(f"*{heading}* ({zone_label(v.tz)} time)\n" + _week_lines(v.windows))),
    ]
    blocks.extend(_school_side(v.windows, v.school_zones, v.monday))
    for day, windows in v.upcoming:
        blocks.append(SectionBlock(text=_md(f"*From {day:%a %b %-d}:*\n" + _week_lines(windows))))
    if v.time_off:
        blocks.append(
            SectionBlock(text=_md("*Time off*\n" + "\n".join(f"• {_span(t)}" for t in v.time_off)))
        )
    else:
        blocks.append(ContextBlock(elements=[_md("No time off coming up.")]))
    return blocks


def saved_blocks(saved: Saved) -> list[Block]:
    head = "Already saved — nothing changed twice." if saved.already else f"✅ {saved.summary}"
    blocks: list[Block] = [SectionBlock(text=_md(head)), DividerBlock()]
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
    head = "Already undone." if u.already else "↩️ Undone. Your availability is back as it was."
    return [SectionBlock(text=_md(head)), DividerBlock(), *schedule_blocks(u.view)]


HELP = """*Keep your availability current in plain words*
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


def help_blocks() -> list[Block]:
    return [SectionBlock(text=_md(HELP))]


def render_result(result: Preview | Question | ScheduleView) -> tuple[str, list[dict[str, Any]]]:
    """The text and blocks that answer an availability message, whatever it turned out to be."""
    if isinstance(result, Preview):
        return preview_text(result), to_dicts(preview_blocks(result))
    if isinstance(result, Question):
        return result.question, to_dicts(question_blocks(result))
    return "Your availability", to_dicts(schedule_blocks(result))

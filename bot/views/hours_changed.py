"""Views: the provider's DM after a manager changed their availability, before → after."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.domain.labels import zone_label
from bot.services.hours_notice import HoursChanged, Week
from bot.views.blocks import escape, md
from bot.views.format import bold
from bot.views.schedule import time_off_span, week_lines


def hours_changed_text(msg: HoursChanged) -> str:
    what = " and ".join(
        part
        for part, changed in (("hours", msg.week_changed), ("time off", msg.time_off_changed))
        if changed
    )
    return f"{escape(msg.manager)} changed your {what or 'availability'}."


def _weeks(weeks: tuple[Week, ...]) -> str:
    parts = []
    for start, windows in weeks:
        lines = week_lines(windows)
        parts.append(lines if start is None else f"From {start:%a %b %-d}:\n{lines}")
    return "\n".join(parts)


def _time_off(spans: tuple[Any, ...]) -> str:
    return "\n".join(f"• {time_off_span(t)}" for t in spans) if spans else "_none coming up_"


def _side_by_side(*columns: tuple[str, str]) -> SectionBlock:
    return SectionBlock(fields=[md(bold(title) + "\n" + text) for title, text in columns])


def hours_changed_blocks(msg: HoursChanged) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(text=md(f"{hours_changed_text(msg)} Times are in {zone_label(msg.tz)} time.")),
    ]
    if msg.week_changed:
        blocks.append(_side_by_side(("Before", _weeks(msg.before)), ("After", _weeks(msg.after))))
    if msg.time_off_changed:
        blocks.append(
            _side_by_side(
                ("Time off before", _time_off(msg.time_off_before)),
                ("Time off now", _time_off(msg.time_off_after)),
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                md(
                    "Not right? Send me your hours here (e.g. `Tue 8-11`), "
                    f"or ask {escape(msg.manager)}."
                )
            ]
        )
    )
    return blocks


def render_hours_changed(msg: HoursChanged) -> tuple[str, list[dict[str, Any]]]:
    return hours_changed_text(msg), [b.to_dict() for b in hours_changed_blocks(msg)]

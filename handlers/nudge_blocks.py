"""Slack edge: the answers to a nudge DM's buttons (the DM itself is ``bot.views.nudges``).

Roster text placed in mrkdwn is escaped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import SectionBlock

from bot.domain.labels import marked_as, marked_cancelled_as
from bot.domain.vocabulary import SessionStatus
from bot.services.nudges import ReviewHeld, Snoozed
from bot.views.blocks import md
from bot.views.format import bold, plural
from bot.views.nudges import NudgeIds, day
from handlers.common import escape

__all__ = ["NudgeIds", "replace_block", "review_held_text", "session_marked_text", "snoozed_text"]


# --- answers to the buttons ----------------------------------------------------------------


def review_held_text(result: ReviewHeld) -> str:
    if result.already:
        return (
            f"✅ Already recorded: {bold(escape(result.student))}'s next annual review is due "
            f"{day(result.next_due)}, {result.next_due.year}."
        )
    return (
        f"✅ Review for {bold(escape(result.student))} recorded as held {day(result.held_on)}. "
        f"The next one is due {day(result.next_due)}, {result.next_due.year}."
    )


def session_marked_text(status: str, already: bool, reason: str | None = None) -> str:
    label = marked_cancelled_as(reason) if status == SessionStatus.CANCELLED else marked_as(status)
    if already:
        return f"✅ That session was already marked {label}."
    return f"✅ Session marked {label}: no note needed."


def snoozed_text(result: Snoozed) -> str:
    local: datetime = result.until.astimezone(ZoneInfo(result.zone))
    when = f"{local:%a %b %-d} at {local:%-I:%M %p}".replace(":00 ", " ")
    if result.already:
        return f"😴 Already snoozed. These come back {when}."
    return f"😴 Snoozed. I'll bring {plural(result.items, 'item')} back {when} (your time)."


def replace_block(
    blocks: list[dict[str, Any]], block_id: str, text: str
) -> list[dict[str, Any]] | None:
    """The message's blocks with ``block_id`` replaced by a plain line; None if not there."""
    found = False
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == block_id:
            found = True
            out.append(SectionBlock(block_id=block_id, text=md(text)).to_dict())
        else:
            out.append(block)
    return out if found else None

"""Views: the managers' DM after a provider's new hours left weekly sessions outside them, with
[Find new times] and [Keep for now] (sent at once by the save, or later by the clock process)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.services.schedule_decisions import Kept, RematchTarget
from bot.services.schedule_effects import ScheduleChanged
from bot.views.blocks import escape, md
from bot.views.conflicts import slot_effect
from bot.views.format import plural

if TYPE_CHECKING:  # the matcher (and OR-Tools) loads only where proposals are made
    from bot.services.matching import Proposal


class ChangeIds(StrEnum):
    FIND_NEW_TIMES = "change_find_new_times"
    KEEP_FOR_NOW = "change_keep_for_now"
    BLOCK_ACTIONS = "change_actions"


def schedule_changed_text(msg: ScheduleChanged) -> str:
    n = sum(len(x.slot_ids) for x in msg.slots)
    lines = [f"• {slot_effect(x)}" for x in msg.slots]
    return "\n".join(
        [
            f"{escape(msg.provider)} changed their availability: "
            f"{plural(n, 'weekly session')} now {'fall' if n != 1 else 'falls'} outside it "
            "(school times):",
            *lines,
        ]
    )


def render_schedule_changed(msg: ScheduleChanged) -> tuple[str, list[dict[str, Any]]]:
    return schedule_changed_text(msg), [b.to_dict() for b in schedule_changed_blocks(msg)]


def schedule_changed_blocks(msg: ScheduleChanged) -> list[Block]:
    return [
        SectionBlock(text=md(schedule_changed_text(msg)[:2900])),
        ActionsBlock(
            block_id=ChangeIds.BLOCK_ACTIONS,
            elements=[
                ButtonElement(
                    text="Find new times",
                    action_id=ChangeIds.FIND_NEW_TIMES,
                    value=msg.change_id,
                    style="primary",
                ),
                ButtonElement(
                    text="Keep for now", action_id=ChangeIds.KEEP_FOR_NOW, value=msg.change_id
                ),
            ],
        ),
    ]


def kept_text(kept: Kept) -> str:
    """The DM's replacement after [Keep for now] (or the answer to a second press)."""
    stay = (
        f"{plural(kept.sessions, 'session')} {'stays' if kept.sessions == 1 else 'stay'} outside "
        f"{escape(kept.provider_name)}'s hours; "
        + ("it will show as a conflict" if kept.sessions == 1 else "they'll show as conflicts")
        + " on Home."
    )
    if not kept.already:
        return f"Kept as is — {stay}"
    by = f"<@{kept.by}>" if kept.by and kept.by.isalnum() else "another manager"
    return f"Already kept as is by {by} — {stay}"


def finding_text(target: RematchTarget) -> str:
    return (
        f"Finding new times for {escape(target.provider_name)}'s students in "
        f"{escape(target.district_name)}… the proposal follows here."
    )


def rematch_what(target: RematchTarget) -> str:
    """Names the solve in "A … is already running"."""
    return f"search for new times for {escape(target.provider_name)}'s students"


def nothing_fits_text(target: RematchTarget, proposal: Proposal) -> str:
    lines = [
        f"• {escape(proposal.unmatched_labels.get(u.student_id, u.student_id))} "
        f"{u.service.upper()}: {escape(u.detail)}"
        for u in proposal.unmatched
    ]
    return "\n".join(
        [
            f"I couldn't find new times for {escape(target.provider_name)}'s students in "
            f"{escape(target.district_name)}: nothing fits.",
            *lines,
            "The sessions stay where they are and show as conflicts on Home.",
        ]
    )

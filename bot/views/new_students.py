"""Views: the "you have new students" DM a provider gets when a manager approves their part of a
proposal (sent at once by the approval, or later by the clock process with their nudges)."""

from __future__ import annotations

from typing import Any

from bot.domain.availability_text import zone_label
from bot.domain.schedule import DAY_LABELS
from bot.services.nudges import NewStudents
from bot.views.blocks import escape


def new_students_text(msg: NewStudents) -> str:
    head = (
        f"You have new students, starting the week of {msg.week_of:%b %-d} "
        f"(times in {zone_label(msg.zone)} time):"
    )
    lines = [
        f"• {escape(x.student)} — {escape(x.service)}, {escape(x.school)}: "
        f"{DAY_LABELS[x.day]} {x.start}–{x.end}"
        for x in msg.lines
    ]
    return "\n".join([head, *lines])


def render_new_students(msg: NewStudents) -> tuple[str, list[dict[str, Any]]]:
    return new_students_text(msg), []

"""Views: every message a service hands the ``Notifier``, laid out for Slack.

``render`` is what the Slack gateway (the notifier's adapter) calls: it picks the builder for
the message's type and returns the notification text and the blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.services.digest import WeeklyDigest
from bot.services.hours_notice import HoursChanged
from bot.services.makeups import MakeupMessage
from bot.services.nudges import NewStudents, NudgeMessage
from bot.services.schedule_effects import ScheduleChanged
from bot.views.digest import render_digest
from bot.views.hours_changed import render_hours_changed
from bot.views.makeups import render_makeup
from bot.views.new_students import render_new_students
from bot.views.nudges import render_nudge
from bot.views.schedule_change import render_schedule_changed

Rendered = tuple[str, list[dict[str, Any]]]

_BUILDERS: dict[type, Callable[[Any], Rendered]] = {
    NudgeMessage: render_nudge,
    WeeklyDigest: render_digest,
    NewStudents: render_new_students,
    MakeupMessage: render_makeup,
    ScheduleChanged: render_schedule_changed,
    HoursChanged: render_hours_changed,
}


def render(message: object) -> Rendered:
    """Text and blocks for a service's message; a type without a builder is a bug."""
    builder = _BUILDERS.get(type(message))
    if builder is None:
        raise TypeError(f"no view for {type(message).__name__}")
    return builder(message)

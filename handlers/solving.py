"""Slack edge: hand a matching solve to the app's bounded solve pool and tell the person where
it stands: started, queued behind other matches, or already running for that district.

``/match``, Home's Run match, [Run it again] and [Find new times] all go through ``submit``; the
person is told before the solve can start, so the proposal never arrives ahead of the notice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.views.format import plural
from bot.work import SOLVES, SolveBusy, SolvePool

IN_DM = "I'll post the proposal in our DM."
READY = "I'll post the proposal in our DM when it's ready."


def solves_of(context: Any) -> SolvePool:
    pool: SolvePool = context[SOLVES]
    return pool


def district_subject(district_id: str) -> str:
    """One solve per district at a time, whoever asks and whatever the filters."""
    return f"district:{district_id}"


def queued_text(ahead: int) -> str:
    """``Queued behind 1 other match — I'll post …`` / ``… behind 2 other matches — …``."""
    return f"Queued behind {plural(ahead, 'other match', 'other matches')} — {READY}"


def busy_text(busy: SolveBusy, what: str, user: str) -> str:
    """``what`` names the solve in mrkdwn, e.g. "match for Anchorage School District"."""
    state = "running" if busy.running else "queued"
    if busy.by == user:
        return f"Your {what} is already {state} — {READY}"
    by = f"<@{busy.by}>" if busy.by[:1] in ("U", "W") and busy.by.isalnum() else "someone else"
    return (
        f"A {what} is already {state}, started by {by}: the proposal goes to them. "
        "Try again once it's done."
    )


def submit(
    context: Any,
    request: tuple[dict[str, Any], Any, Any, Any],
    *,
    subject: str,
    user: str,
    what: str,
    started: str,
    tell: Callable[[str], None],
    work: Callable[[], None],
) -> bool:
    """Claim ``subject``, tell the person (``started`` or the queue), then queue ``work``.

    ``request`` (body, context, respond, client) is whom a failure of the work is reported to.
    False when a solve for ``subject`` was already queued or running (the person is told).
    """
    pool = solves_of(context)
    try:
        ahead = pool.claim(subject, user)
    except SolveBusy as busy:
        tell(busy_text(busy, what, user))
        return False
    try:
        tell(queued_text(ahead) if ahead else started)
    finally:
        pool.start(subject, user, work, request)
    return True

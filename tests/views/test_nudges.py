"""Views: the nudge DM says how late a note is, not "due now"."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.services.nudges import NoteLine, NudgeMessage
from bot.views.nudges import render_nudge


def test_a_note_22_hours_late_says_so() -> None:
    note = NoteLine(1, "T.E. (S1)", "Birchwood", "slp", date(2026, 11, 27), 0, timedelta(hours=22))
    old = NoteLine(2, "I.M. (S3)", "Birchwood", "slp", date(2026, 11, 20), 7, timedelta(days=7))
    msg = NudgeMessage(
        "b1", "provider", "Ana Reyes", date(2026, 11, 30), notes=(note, old), notes_total=2
    )
    _, blocks = render_nudge(msg)
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "(due 22 h ago)" in shown and "(due 7 days ago)" in shown
    assert "due now" not in shown

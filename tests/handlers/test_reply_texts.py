"""Handlers: the wording pass of issue 16 — counts pluralised, bold never nested, no row ids.

Each case drives the real app with a signed request and reads back what the user would see.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import NoteText
from bot.services.soap import save_note
from devtools.local_slack import LocalSlack
from tests.services.caseload_seed import add_session, seed
from tests.support.app_driver import Driver, Reply

# A bold span that opens another one inside it: "*Replace … from *Tue Jan 5**".
NESTED_BOLD = re.compile(r"\*[^*\n]+ \*[^*\n]+\*\*")


def mrkdwn_texts(value: Any) -> list[str]:
    """Every mrkdwn string in a reply: message text and each block's text objects."""
    found: list[str] = []
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            found.append(value["text"])
        for v in value.values():
            found += mrkdwn_texts(v)
    elif isinstance(value, list):
        for v in value:
            found += mrkdwn_texts(v)
    return found


def shown(reply: Reply) -> list[str]:
    return mrkdwn_texts(reply.ack_json()) + mrkdwn_texts([c.params for c in reply.calls])


@pytest.fixture
def driver(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> Driver:
    seed(deps, tmp_path)
    noted = add_session(deps, "noted", "S1", clock.now() - timedelta(days=5))
    save_note(deps, "U0P1", noted, NoteText("s", "o", "a", "p"))
    # 30 minutes long, due 48 h after it ended: 21.5 h late now.
    add_session(deps, "late", "S1", clock.now() - timedelta(hours=70))
    slack.clear()
    return Driver(deps, slack)


def test_an_effective_date_is_inside_the_one_bold_title(driver: Driver) -> None:
    texts = shown(driver.slash("U0P1", "/availability", "Tue 8-11 PT starting Jan 5"))
    assert "*Replace your weekly availability from Tue Jan 5* (Pacific time)" in texts
    assert not [t for t in texts if NESTED_BOLD.search(t)]


def test_one_note_is_one_note(driver: Driver) -> None:
    reply = driver.slash("U0M1", "/soap", "history S1")
    said = reply.said()
    assert "1 note, newest first" in said and "1 notes" not in said


def test_an_hour_setting_of_one_reads_as_one_hour(driver: Driver) -> None:
    from handlers.soap_blocks import usage_text

    assert "due 1 hour after the session" in usage_text(1)
    assert "due 48 hours after the session" in usage_text(48)


def test_the_home_says_how_late_a_note_is(driver: Driver) -> None:
    home = "\n".join(shown(driver.open_home("U0P1")))
    assert "· due 21 h ago" in home
    assert "was due" not in home and "due now" not in home

"""Handlers: user and roster text is shown literally, never as a Slack mention or link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, make_console
from devtools.local_slack import LocalSlack
from storage import models as m
from storage.roster import import_roster

DEMO = Path(__file__).resolve().parents[2] / "demo" / "roster"
HOSTILE = ["<!channel>", "<!here>", "<@U0DEMOM01>", "<https://evil.example|click>"]


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Iterator[Console]:
    assert import_roster(DEMO, deps.session_factory).ok
    with deps.session_factory.begin() as s:  # a roster name that tries to ping everyone
        s.execute(
            update(m.Provider).where(m.Provider.id == "P01").values(name="<!channel> *Boss* &")
        )
    with LocalSlack() as slack:
        yield make_console(settings, slack, "U0DEMOP01")


def outbound(console: Console) -> str:
    """What the bot said in mrkdwn (the proposal's CSV is a file, never rendered as mrkdwn)."""
    said = [
        {k: v for k, v in c.params.items() if k not in ("content", "uploads")}
        for c in console.slack.calls
        if c.method != "file_upload"
    ]
    return json.dumps(said, ensure_ascii=False)


@pytest.mark.parametrize(
    "line",
    [
        "<!channel> Tue 8-11",
        "Tue 8-11 <@U0DEMOM01>",
        "out Dec 23 - Jan 2 <!here> *urgent*",
        "can you move my 2pm with <@U0DEMOP02> to Thursday? <https://evil.example|click>",
        "/availability <!channel> please",
        "/availability help <!here>",
    ],
)
def test_hostile_text_is_escaped_in_every_reply(console: Console, line: str) -> None:
    console.handle(line)
    sent = outbound(console)
    for marker in HOSTILE:
        assert marker not in sent, marker


def test_hostile_roster_names_are_escaped(console: Console) -> None:
    console.handle("/availability")  # a provider's own schedule does not show their name
    console.user = "U0DEMOM01"
    console.handle("/availability <@U0DEMOP01> Tue 8-11")
    console.handle("/match district=anchorage")
    sent = outbound(console)
    assert "<!channel>" not in sent
    assert "&lt;!channel&gt; *Boss* &amp;" in sent


def test_a_plain_at_mention_names_the_target_like_a_slack_mention() -> None:
    from handlers.common import split_mention

    assert split_mention("@U0DEMOP02 Tue 8-11") == ("U0DEMOP02", "Tue 8-11")
    assert split_mention("<@U0DEMOP02|ben> Tue 8-11") == ("U0DEMOP02", "Tue 8-11")
    assert split_mention("@Ugly Tue 8-11") == (None, "@Ugly Tue 8-11")

"""Handlers: `/match help` explains the filters and what a proposal does, at once and privately,
without starting a solve; a wrong filter points at it."""

from __future__ import annotations

import pytest

from bot.deps import Deps
from devtools.local_slack import LocalSlack
from tests.support.app_driver import Driver


@pytest.mark.parametrize("text", ["help", "HELP", " ? ", "--help"])
def test_match_help_explains_the_filters_and_starts_nothing(
    demo_deps: Deps, slack: LocalSlack, text: str
) -> None:
    reply = Driver(demo_deps, slack).slash("U0DEMOM01", "/match", text)
    ack = reply.ack_json()
    assert ack["response_type"] == "ephemeral"
    shown = ack["text"]
    assert shown.startswith("*/match proposes who serves whom, and when, for one district*")
    for words in ("district=anchorage", "service=slp", "`ot`", "provider=@someone",
                  "Approve all", "whom to hire"):  # fmt: skip
        assert words in shown, words
    assert "**" not in shown  # emphasis never nests
    assert not [c for c in reply.calls if c.method in ("chat.postMessage", "response_url")]


def test_a_wrong_filter_points_at_the_help(demo_deps: Deps, slack: LocalSlack) -> None:
    text = Driver(demo_deps, slack).slash("U0DEMOM01", "/match", "color=blue").ack_json()["text"]
    assert text.startswith("I don't understand `color=blue`.")
    assert text.endswith("`/match help` says more.")

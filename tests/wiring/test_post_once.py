"""Wiring: a DM post tagged with a key lands once, even when Slack took it and the answer was
lost (a timeout) or it failed with a 5xx: the /match proposal and its "Matching…" message."""

from __future__ import annotations

import pytest

from bot.slack_gateway import SlackGateway, SlackUnavailable, make_web_client
from devtools.local_slack import LocalSlack

USER = "UPOST1"


def gateway(slack: LocalSlack) -> SlackGateway:
    # The client's own retries on: a tagged post must not lean on them.
    return SlackGateway(make_web_client("xoxb-test-token", slack.api_url, retries=2, timeout=1))


def test_a_post_slack_took_before_the_answer_was_lost_is_found_not_posted_again(
    slack: LocalSlack,
) -> None:
    gw = gateway(slack)
    slack.hang_next("chat.postMessage", 2.5)  # Slack takes it; the answer comes too late
    posted = gw.post_dm(USER, "Proposal for Anchorage", key="proposal:P1")
    [message] = slack.history(posted.channel)
    assert message["ts"] == posted.ts
    assert message["metadata"]["event_payload"] == {"key": "proposal:P1"}
    assert len(slack.calls_to("chat.postMessage")) == 1
    [looked] = slack.calls_to("conversations.history")
    assert looked.params["include_all_metadata"]


def test_a_post_that_failed_with_a_5xx_and_did_not_land_is_posted_once_more(
    slack: LocalSlack,
) -> None:
    gw = gateway(slack)
    slack.fail_next("chat.postMessage", 503)
    posted = gw.post_dm(USER, "Proposal for Anchorage", key="proposal:P2")
    [message] = slack.history(posted.channel)
    assert message["ts"] == posted.ts
    assert len(slack.calls_to("chat.postMessage")) == 2  # the failed one, then one more


def test_a_post_that_fails_twice_says_so_and_lands_nothing(slack: LocalSlack) -> None:
    gw = gateway(slack)
    slack.fail_next("chat.postMessage", 503, times=2)
    with pytest.raises(SlackUnavailable):
        gw.post_dm(USER, "Proposal for Anchorage", key="proposal:P3")
    assert slack.history("D" + USER) == []
    assert len(slack.calls_to("chat.postMessage")) == 2  # no blind retries by the client

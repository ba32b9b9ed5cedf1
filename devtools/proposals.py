"""Development tools: the /match proposals the bot delivered, found in what the fake Slack Web API
recorded, whichever way the bot delivers them: an answer through ``response_url``, or a message in
the manager's DM (posted as the proposal, or a "Matching…" message updated into it; each as its
last update left it). The end-to-end tests and ``bench/match_serve.py`` read proposals through it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from devtools.local_slack import LocalSlack

APPROVE_ALL = "match_approve_all"


@dataclass
class Delivered:
    at: float  # time.monotonic() when the proposal first reached the fake
    text: str
    blocks: list[dict[str, Any]]
    channel: str | None = None  # a DM message's channel and ts; None for a response_url answer
    ts: str | None = None

    def said(self) -> str:
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def button(self, action_id: str) -> str | None:
        for b in self.blocks:
            for el in [*(b.get("elements") or []), b.get("accessory") or {}]:
                if isinstance(el, dict) and el.get("action_id") == action_id:
                    return str(el["value"])
        return None

    @property
    def proposal_id(self) -> str | None:
        return self.button(APPROVE_ALL)


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def _is_proposal(blocks: list[dict[str, Any]]) -> bool:
    return any(
        b.get("type") == "header" and str(b["text"]["text"]).startswith("Proposal:") for b in blocks
    )


def delivered(slack: LocalSlack) -> list[Delivered]:
    """Every proposal delivered so far, by arrival."""
    found: dict[tuple[str, str], Delivered] = {}
    for c in slack.calls:
        if not c.ok:
            continue
        answer = c.response if isinstance(c.response, dict) else {}
        if c.method == "response_url":
            key = ("response_url", f"{c.path}:{c.at}")
        elif c.method == "chat.postMessage":
            key = (str(answer.get("channel")), str(answer.get("ts")))
        elif c.method == "chat.update":
            key = (str(c.params.get("channel")), str(c.params.get("ts")))
        else:
            continue
        blocks = _blocks(c.params)
        text = str(c.params.get("text") or "")
        if key in found:  # updated in place (Approved, stale): its latest words
            found[key].text, found[key].blocks = text, blocks
        elif _is_proposal(blocks):
            dm = key[0] != "response_url"
            found[key] = Delivered(
                c.at, text, blocks, key[0] if dm else None, key[1] if dm else None
            )
    return sorted(found.values(), key=lambda d: d.at)


def wait_for_proposals(slack: LocalSlack, count: int = 1, timeout: float = 30) -> list[Delivered]:
    """Block until ``count`` proposals were delivered; all of them, by arrival."""
    deadline = time.monotonic() + timeout
    while True:
        found = delivered(slack)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            seen = [c.method for c in slack.calls]
            raise AssertionError(f"expected {count} proposal(s), got {len(found)}; calls: {seen}")
        time.sleep(0.02)

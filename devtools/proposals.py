"""Development tools: the messages the bot posted (the /match proposals among them), read from
what the fake Slack Web API recorded (in-process or through ``serve``), each as its last
``chat.update`` left it, with the files uploaded into its thread. A proposal is a DM message,
posted as the proposal or a "Matching…"/queue notice updated into it. The tests and
``bench/match_serve.py`` read proposals through this module.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from devtools.local_slack import LocalSlack

APPROVE_ALL = "match_approve_all"


@dataclass
class DmMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    at: float = 0.0  # time.monotonic() when it first said a proposal (else: when it was posted)
    updates: int = 0  # chat.update calls it took after it was posted
    files: list[dict[str, Any]] = field(default_factory=list)  # uploads in its thread

    def said(self) -> str:
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def button(self, action_id: str) -> str:
        """The value of the message's first button with ``action_id`` (AssertionError if none)."""
        for b in self.blocks:
            for el in [*(b.get("elements") or []), b.get("accessory") or {}]:
                if isinstance(el, dict) and el.get("action_id") == action_id:
                    return str(el["value"])
        raise AssertionError(f"no {action_id} button in {self.said()[:500]}")

    def buttons(self) -> list[str]:
        return [
            str(el.get("action_id"))
            for b in self.blocks
            for el in [*(b.get("elements") or []), b.get("accessory") or {}]
            if isinstance(el, dict) and el.get("type") == "button"
        ]

    @property
    def proposal_id(self) -> str:
        return self.button(APPROVE_ALL)

    @property
    def is_proposal(self) -> bool:
        return _is_proposal(self.blocks)


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks") or []  # a JSON string when posted form-encoded
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def _is_proposal(blocks: list[dict[str, Any]]) -> bool:
    return any(
        b.get("type") == "header" and str(b["text"]["text"]).startswith("Proposal:") for b in blocks
    )


def dm_messages(slack: LocalSlack) -> list[DmMessage]:
    """Every message the bot posted, oldest first, each as its last chat.update left it."""
    found: dict[tuple[str, str], DmMessage] = {}
    proposed: set[tuple[str, str]] = set()  # the ones that said a proposal at some point
    for c in slack.calls:
        if not c.ok:
            continue
        answer = c.response if isinstance(c.response, dict) else {}
        if c.method == "chat.postMessage":
            key = (str(answer.get("channel")), str(answer.get("ts")))
            found[key] = DmMessage(key[0], key[1], str(c.params.get("text") or ""), [], c.at)
        elif c.method == "chat.update":
            key = (str(c.params.get("channel")), str(c.params.get("ts")))
            if key not in found:
                continue
            found[key].updates += 1
        elif c.method == "files.completeUploadExternal":
            key = (str(c.params.get("channel_id")), str(c.params.get("thread_ts")))
            if key in found:
                found[key].files += list(c.params.get("files") or [])
            continue
        else:
            continue
        message = found[key]
        message.text, message.blocks = str(c.params.get("text") or ""), _blocks(c.params)
        if key not in proposed and message.is_proposal:
            proposed.add(key)
            message.at = c.at
    return list(found.values())


def proposals(slack: LocalSlack) -> list[DmMessage]:
    """The messages that are proposals now, by the time each first said one."""
    return sorted((m for m in dm_messages(slack) if m.is_proposal), key=lambda m: m.at)


def wait_for_proposals(slack: LocalSlack, count: int = 1, timeout: float = 30) -> list[DmMessage]:
    """Block until ``count`` proposals were posted; all of them, by arrival."""
    deadline = time.monotonic() + timeout
    while True:
        found = proposals(slack)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            seen = [c.method for c in slack.calls]
            raise AssertionError(f"expected {count} proposal(s), got {len(found)}; calls: {seen}")
        time.sleep(0.02)


def wait_for_update(slack: LocalSlack, ts: str, says: str, timeout: float = 15) -> DmMessage:
    """Block until the message posted at ``ts`` says ``says`` (after its updates); it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in dm_messages(slack) if m.ts == ts and says in m.said()]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"the message at {ts} never said {says!r}")
        time.sleep(0.05)

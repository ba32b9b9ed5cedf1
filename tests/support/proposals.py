"""Test helper: the /match proposals the bot posted into DMs, as they stand after every
in-place update, read from the fake Slack's recorded calls (in-process or through ``serve``)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from devtools.local_slack import LocalSlack


@dataclass
class DmMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    updates: int = 0  # chat.update calls it took after it was posted
    files: list[dict[str, Any]] = field(default_factory=list)  # uploads in its thread

    def said(self) -> str:
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def button(self, action_id: str) -> str:
        """The value of the message's first button with ``action_id`` (AssertionError if none)."""
        for b in self.blocks:
            for el in [*(b.get("elements") or []), b.get("accessory") or {}]:
                if el.get("action_id") == action_id:
                    return str(el["value"])
        raise AssertionError(f"no {action_id} button in {self.said()[:500]}")

    def buttons(self) -> list[str]:
        return [
            str(el.get("action_id"))
            for b in self.blocks
            for el in [*(b.get("elements") or []), b.get("accessory") or {}]
            if el.get("type") == "button"
        ]

    @property
    def is_proposal(self) -> bool:
        return any(
            b.get("type") == "header" and b["text"]["text"].startswith("Proposal:")
            for b in self.blocks
        )


def dm_messages(slack: LocalSlack) -> list[DmMessage]:
    """Every message the bot posted, oldest first, each as its last chat.update left it."""
    found: dict[tuple[str, str], DmMessage] = {}
    for c in slack.calls:
        answer = c.response if isinstance(c.response, dict) else {}
        if not c.ok:
            continue
        if c.method == "chat.postMessage":
            key = (str(answer.get("channel")), str(answer.get("ts")))
            found[key] = DmMessage(
                key[0], key[1], str(c.params.get("text") or ""), list(c.params.get("blocks") or [])
            )
        elif c.method == "chat.update":
            key = (str(c.params.get("channel")), str(c.params.get("ts")))
            if key in found:
                message = found[key]
                message.text = str(c.params.get("text") or "")
                message.blocks = list(c.params.get("blocks") or [])
                message.updates += 1
        elif c.method == "files.completeUploadExternal":
            key = (str(c.params.get("channel_id")), str(c.params.get("thread_ts")))
            if key in found:
                found[key].files += list(c.params.get("files") or [])
    return list(found.values())


def proposals(slack: LocalSlack) -> list[DmMessage]:
    return [m for m in dm_messages(slack) if m.is_proposal]


def wait_for_proposals(slack: LocalSlack, count: int = 1, timeout: float = 30) -> list[DmMessage]:
    """Block until ``count`` proposals were posted; all of them, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        found = proposals(slack)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            seen = [c.method for c in slack.calls]
            raise AssertionError(f"expected {count} proposal(s), got {len(found)}; calls: {seen}")
        time.sleep(0.05)


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

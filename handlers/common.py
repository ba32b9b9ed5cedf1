"""Slack edge: small helpers shared by listeners (deps lookup, mrkdwn escaping, mentions)."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block

from bot.deps import Deps

MENTION = re.compile(r"^\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*")


HELP_WORDS = frozenset({"help", "?", "-h", "--help"})  # what asks a command for its usage


def deps_of(context: Any) -> Deps:
    deps: Deps = context["deps"]
    return deps


def escape(text: str) -> str:
    """Escape user text for mrkdwn, so `<!channel>` or `<@U1>` are shown, not acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_mention(text: str) -> tuple[str | None, str]:
    """``<@U123|ann> Tue 8-11`` -> ("U123", "Tue 8-11")."""
    match = MENTION.match(text or "")
    if match is None:
        return None, (text or "").strip()
    return match.group(1), text[match.end() :].strip()


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialise (this is where slack_sdk checks text lengths) and enforce the 50-block limit."""
    out = [b.to_dict() for b in blocks]
    if len(out) > 50:
        raise ValueError(f"{len(out)} blocks: Slack allows 50 per message")
    return out


MAX_ROW_ID = 2**31 - 1


def row_id(value: Any) -> int | None:
    """A database row id carried in a button or form value, or None if it cannot be one.

    Values are forgeable: only plain digits within the id range may reach a query.
    """
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None

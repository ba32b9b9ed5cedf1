"""Views: the Block Kit basics every builder uses: mrkdwn text, escaping, serialising."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, MarkdownTextObject

from bot.domain.mrkdwn import escape

__all__ = ["MAX_BLOCKS", "escape", "md", "to_dicts"]

MAX_BLOCKS = 50  # Slack's limit per message, which slack_sdk does not check


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialise (this is where slack_sdk checks text lengths) and enforce the 50-block limit."""
    out = [b.to_dict() for b in blocks]
    if len(out) > MAX_BLOCKS:
        raise ValueError(f"{len(out)} blocks: Slack allows {MAX_BLOCKS} per message")
    return out

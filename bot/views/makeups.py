"""Views: the make-up DM (to the provider, or the managers' escalation), and its ids.

A job renders it and a listener answers its button, so it lives here rather than in a
listener module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.labels import service_label
from bot.services.makeups import MakeupItem, MakeupMessage
from bot.views.format import bold, plural

MAX_BUTTONS = 20


class MakeupIds(StrEnum):
    SCHEDULE = "makeup_schedule"  # a button whose value is the missed session's id
    CALLBACK = "makeup_book"  # the modal; private_metadata is the missed session's id
    TIME_BLOCK = "makeup_time"
    TIME_SELECT = "makeup_time_select"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def item_text(item: MakeupItem, *, with_provider: bool) -> str:
    who = f" · {_esc(item.provider)}" if with_provider else ""
    late = f" · waiting {item.weeks} weeks" if item.weeks >= 2 else ""
    return (
        f"{_esc(item.student)} · {service_label(item.service)} · "
        f"{item.minutes} min missed {item.missed_at:%a %b %-d %H:%M %Z}{who}{late}"
    )


def render_makeup(message: MakeupMessage) -> tuple[str, list[dict[str, Any]]]:
    n = len(message.items)
    owed = plural(n, "make-up")
    if message.to_manager:
        text = f"{owed} still not scheduled after two weeks"
        blocks: list[Block] = [SectionBlock(text=_md(bold(text)))]
        lines = [f"• {item_text(i, with_provider=True)}" for i in message.items]
        blocks.append(SectionBlock(text=_md("\n".join(lines)[:2900])))
        blocks.append(ContextBlock(elements=[_md("See them all with `/minutes district=<id>`.")]))
        return text, [b.to_dict() for b in blocks]
    text = f"{owed} owed: please schedule"
    blocks = [
        SectionBlock(
            text=_md(
                f"{bold(text)}\nThese sessions were cancelled or never marked held. Pick a "
                "time and I'll add the make-up to your sessions."
            )
        )
    ]
    for item in message.items[:MAX_BUTTONS]:
        blocks.append(
            SectionBlock(
                text=_md(item_text(item, with_provider=False)),
                accessory=ButtonElement(
                    text="Schedule make-up",
                    action_id=MakeupIds.SCHEDULE,
                    value=str(item.missed_session_id),
                    style="primary",
                ),
            )
        )
    if n > MAX_BUTTONS:
        blocks.append(ContextBlock(elements=[_md(f"…and {n - MAX_BUTTONS} more: `/minutes`")]))
    return text, [b.to_dict() for b in blocks]

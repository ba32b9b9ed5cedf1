"""Slack edge: the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.services import home as svc
from handlers.availability_blocks import schedule_blocks
from handlers.common import deps_of, to_dicts


def home_blocks(home: svc.Home) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=f"Hi {home.name.split()[0]}" if home.known else "Welcome")
    ]
    if not home.known:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=svc.NOT_IN_ROSTER)))
        return blocks
    if home.schedule is not None:
        blocks.extend(schedule_blocks(home.schedule))
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Change it any time: DM me `add Fri 1-4` or `out Dec 23 - Jan 2`, "
                        "or use `/availability`."
                    )
                ]
            )
        )
    if home.is_manager:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Managers:* run `/match district=<name>` to propose caseloads."
                )
            )
        )
    return blocks


def handle_app_home_opened_event(event: dict[str, Any], client: WebClient, context: Any) -> None:
    if event.get("tab", "home") != "home":
        return
    home = svc.home_for(deps_of(context), event["user"])
    client.views_publish(
        user_id=event["user"], view={"type": "home", "blocks": to_dicts(home_blocks(home))}
    )


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened_event)

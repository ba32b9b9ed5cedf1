"""Test helper: drive the real Bolt app in-process with signed, Slack-shaped requests, and read
back everything the bot said (ack bodies and the fake Web API's recorded calls)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from bot.app import create_app
from bot.deps import Deps
from devtools.local_slack import LocalSlack, RecordedCall
from devtools.slack_requests import (
    app_home_opened_event,
    block_actions_body,
    dispatch_signed,
    event_body,
    slash_command_body,
    view_submission_body,
)


@dataclass
class Reply:
    status: int
    ack: str
    calls: list[RecordedCall]

    def said(self) -> str:
        """Everything the user could see, as one string to search."""
        parts = [self.ack]
        for c in self.calls:
            p = c.params
            parts += [str(p.get("text") or ""), json.dumps(p.get("blocks") or [])]
            parts.append(json.dumps(p.get("view") or {}))
        return "\n".join(parts)

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    def ack_json(self) -> dict[str, Any]:
        data = json.loads(self.ack) if self.ack else {}
        assert isinstance(data, dict)
        return data


class Driver:
    def __init__(self, deps: Deps, slack: LocalSlack, *, inline: bool = True) -> None:
        """``inline=False``: the work runs on the app's pools as under ``serve``, so ``send``
        returns with the acknowledgement and later replies are read from ``slack``."""
        self.deps, self.slack = deps, slack
        self.app: App = create_app(deps.settings, deps, process_before_response=inline)
        self.secret = deps.settings.slack_signing_secret or ""

    def send(self, body: str) -> Reply:
        before = len(self.slack.calls)
        response = dispatch_signed(self.app, self.secret, body)
        return Reply(response.status, response.body or "", self.slack.calls[before:])

    def slash(self, user: str, command: str, text: str = "") -> Reply:
        return self.send(
            slash_command_body(
                command=command,
                text=text,
                user_id=user,
                channel_id="D" + user,
                response_url=self.slack.response_url(f"r{time.monotonic_ns()}"),
            )
        )

    def press(
        self, user: str, action_id: str, value: str, *, from_home: bool = False, block_id: str = "b"
    ) -> Reply:
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "x"},
        }
        if from_home:
            container: dict[str, Any] = {"type": "view", "view_id": "VHOME"}
            return self.send(
                block_actions_body(
                    user_id=user,
                    action=action,
                    response_url=None,
                    container=container,
                    view={"id": "VHOME", "type": "home", "blocks": []},
                )
            )
        container = {
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "D" + user,
            "is_ephemeral": True,
        }
        return self.send(
            block_actions_body(
                user_id=user,
                action=action,
                response_url=self.slack.response_url(f"a{time.monotonic_ns()}"),
                container=container,
            )
        )

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> Reply:
        return self.send(view_submission_body(user_id=user, view=view, state_values=values))

    def open_home(self, user: str) -> Reply:
        event = app_home_opened_event(user_id=user)
        return self.send(event_body(event=event, event_id=f"Ev{time.monotonic_ns()}"))


def soap_values(
    *,
    session: str | None = None,
    objective: str | None = None,
    trials: str | None = None,
    subjective: str | None = None,
) -> dict[str, Any]:
    """The state Slack sends for the SOAP form."""

    def text(value: str | None) -> dict[str, Any]:
        return {"type": "plain_text_input", "value": value}

    values: dict[str, Any] = {
        "soap_trials": {"soap_trials_input": text(trials)},
        "soap_subjective": {"soap_subjective_input": text(subjective)},
        "soap_objective": {"soap_objective_input": text(objective)},
        "soap_assessment": {"soap_assessment_input": text(None)},
        "soap_plan": {"soap_plan_input": text(None)},
    }
    if session is not None:
        values["soap_session"] = {
            "soap_session_select": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": session},
            }
        }
    return values

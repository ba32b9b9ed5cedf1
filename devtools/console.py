"""Development tools: the local console, a shell that needs no Slack and no tokens.

It drives the same Bolt app and listeners as production with real Slack-shaped, signed
payloads, and points every Web API call at a loopback fake of Slack (``LocalSlack``), whose
recorded calls it prints as readable text. Buttons are pressed by their number.
"""

from __future__ import annotations

import json
import secrets
import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from slack_bolt import App

from bot.clock import FixedClock
from bot.deps import Deps, build_deps
from bot.services import nudges
from bot.services.directory import directory, first_provider, member, roster_is_empty
from bot.settings import Settings
from devtools.blocks_text import (
    Button,
    InputField,
    Rendered,
    action_payload,
    render_message,
    render_view,
)
from devtools.local_slack import LocalSlack, RecordedCall
from devtools.slack_requests import (
    app_home_opened_event,
    block_actions_body,
    dispatch_signed,
    event_body,
    im_message_event,
    slash_command_body,
    view_submission_body,
)
from jobs import caseload_jobs
from jobs.clock_process import run_summary

SLASH_COMMANDS = ("/availability", "/match", "/caseload", "/soap", "/deadlines", "/minutes")
HELP = """Type what you would type in Slack:
  /availability Tue 8-11 PT     set your weekly hours (try: /availability help)
  /match district=anchorage     propose caseloads (managers)
  /caseload  /soap  /deadlines  the other slash commands
  /minutes                      IEP minutes this month, make-ups owed
  out Dec 23 - Jan 2            any other text is a DM to the bot
  1, 2, ...                     press the button with that number
Console commands:
  /home          open your App Home tab
  /buttons       list the buttons you can still press
  /clock 2026-12-07T17:00Z  run the clock's sweeps as of that time (default: now) and show
                 the DMs they send, to whom
  /who           list the people in the roster you can act as
  /as U0DEMOM01  act as someone else (a Slack user id from /who)
  /help          this list
  /quit          leave (Ctrl-D works too)"""


REPLACED = "That message was replaced; use the newer one."


NO_BUTTONS = "No buttons to press."


@dataclass
class _Pressable:
    button: Button
    source: dict[str, Any]  # how to send the action: container, message or view
    message: int  # the console's number for the message or view the button is on
    owner: str  # whose screen it is on: only they can press it (after /as, theirs)


@dataclass
class Console:
    """One console conversation. ``handle(line)`` returns what the bot showed."""

    app: App
    deps: Deps
    slack: LocalSlack
    signing_secret: str
    user: str
    buttons: dict[int, _Pressable] = field(default_factory=dict)
    pending_view: dict[str, Any] | None = None
    # Block ids of the open form's fields that came back with a problem, and their messages.
    form_errors: dict[str, str] = field(default_factory=dict)
    next_number: int = 1
    home_requested: bool = False
    # Messages (by the console's own number) whose buttons still work; a replaced or deleted
    # message's buttons answer REPLACED, as Slack no longer shows them.
    live: set[int] = field(default_factory=set)
    next_message: int = 1
    _by_ts: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, ts) -> message
    _by_response_key: dict[str, int] = field(default_factory=dict)  # pressed button's message
    _by_view: dict[str, int] = field(default_factory=dict)  # view id (or "home") -> message

    # --- input -----------------------------------------------------------------------------

    def handle(self, line: str) -> str:
        line = line.strip()
        if not line:
            return ""
        word = line.split()[0].lower()
        if word in ("/help", "help") and line.lower() in ("/help", "help"):
            return HELP
        if word in ("/quit", "/exit"):
            raise EOFError
        if word == "/who":
            return self.who()
        if word == "/clock":
            return self.clock(line[len(word) :].strip())
        if word == "/as":
            return self.switch(line[3:].strip())
        if word == "/buttons":
            return self.live_buttons()
        if word == "/home":
            self.home_requested = True
            try:
                return self.dispatch_event(app_home_opened_event(user_id=self.user))
            finally:
                self.home_requested = False
        if line.isdigit():
            return self.press(int(line))
        if word.startswith("/"):
            if word not in SLASH_COMMANDS:
                return f"Unknown command {word}. Type /help for the list."
            return self.slash(word, line[len(word) :].strip())
        return self.dispatch_event(im_message_event(user_id=self.user, text=line))

    def clock(self, when: str) -> str:
        """Run every sweep of the clock process on this database as of ``when`` (ISO 8601 with
        a zone; empty: now), delivering what is due, and show the DMs it sent."""
        try:
            at = datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None
        except ValueError:
            at = None
            when = when or "?"
        if when and (at is None or at.tzinfo is None):
            return "Usage: /clock [ISO time with a zone], e.g. /clock 2026-12-07T17:00Z"
        deps = replace(self.deps, clock=FixedClock(at or self.deps.clock.now()))
        now = deps.clock.now()
        self._since = len(self.slack.calls)
        report = nudges.run_once(deps)
        made = caseload_jobs.run_once(deps, now)
        head = f"── clock at {now.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC ──\n"
        head += run_summary(report, made)
        shown = self._output(200, "")
        return head if shown == "(no reply)" else f"{head}\n\n{shown}"

    def who(self) -> str:
        people = directory(self.deps)
        lines = ["Managers:"] + [f"  {p.slack_user_id}  {p.name}" for p in people.managers]
        lines += ["Providers:"] + [
            f"  {p.slack_user_id}  {p.name} ({(p.discipline or '').upper()}, {p.timezone})"
            for p in people.providers
        ]
        lines.append(f"You are {self.user}. Switch with /as USER_ID.")
        return "\n".join(lines)

    def live_buttons(self) -> str:
        """The buttons that can still be pressed, by number (a replaced message's are gone)."""
        live = [
            f"[{n}] {p.button.label}"
            for n, p in sorted(self.buttons.items())
            if p.message in self.live
            and p.owner == self.user
            and p.button.kind not in ("submit", "close")
        ]
        return "Buttons you can press: " + "  ".join(live) if live else NO_BUTTONS

    def switch(self, user: str) -> str:
        if not user:
            return "Usage: /as U0DEMOM01 (see /who)"
        self.user = user.upper()
        # Buttons stay where they are (a DM to a manager keeps its buttons for them): each
        # person presses only their own, as in Slack.
        said = f"You are now {self.describe(self.user)}."
        mine = self.live_buttons()
        return said if mine == NO_BUTTONS else f"{said}\n{mine}"

    def describe(self, user: str) -> str:
        who = member(self.deps, user)
        if who is None:
            return f"{user} (not in the roster)"
        if who.manager:
            return f"{user} ({who.name}, manager)"
        return f"{user} ({who.name}, {(who.discipline or '').upper()}, {who.timezone})"

    # --- sending ---------------------------------------------------------------------------

    def _send(self, body: str) -> tuple[int, str]:
        before = len(self.slack.calls)
        response = dispatch_signed(self.app, self.signing_secret, body)
        self._since = before
        return response.status, response.body or ""

    def slash(self, command: str, text: str) -> str:
        key = uuid.uuid4().hex[:12]
        body = slash_command_body(
            command=command,
            text=text,
            user_id=self.user,
            channel_id="D" + self.user,
            response_url=self.slack.response_url(key),
        )
        status, ack_body = self._send(body)
        return self._output(status, ack_body)

    def dispatch_event(self, event: dict[str, Any]) -> str:
        body = event_body(event=event, event_id="Ev" + uuid.uuid4().hex[:10].upper())
        status, ack_body = self._send(body)
        return self._output(status, "")

    def press(self, number: int, *, forged: bool = False) -> str:
        """Press a button on the current person's screen. ``forged``: press it whoever's screen it
        is on, as a crafted request could (the authorization tests check the bot refuses)."""
        item = self.buttons.get(number)
        if item is None:
            return f"There is no button {number} on screen."
        b, source = item.button, item.source
        if item.owner != self.user and not forged:
            return f"Button {number} is on {item.owner}'s screen: /as {item.owner} to press it."
        if item.message not in self.live:
            return REPLACED
        if b.kind == "close":
            self.pending_view = None
            return "(closed)"
        if b.kind == "submit":
            return "Fill the form first: the console asks for each field when a form opens."
        key = uuid.uuid4().hex[:12]
        self._by_response_key[key] = item.message
        container = source.get("container", {"type": "message"})
        body = block_actions_body(
            user_id=self.user,
            action=action_payload(b),
            response_url=self.slack.response_url(key) if container["type"] == "message" else None,
            container=container,
            message=source.get("message"),
            view=source.get("view"),
        )
        status, ack_body = self._send(body)
        return self._output(status, ack_body)

    def submit_view(self, view: dict[str, Any], values: dict[str, Any]) -> str:
        self.form_errors = {}
        body = view_submission_body(user_id=self.user, view=view, state_values=values)
        status, ack_body = self._send(body)
        if ack_body:
            try:
                reply = json.loads(ack_body)
            except ValueError:
                reply = {}
            if reply.get("response_action") == "errors":
                # Slack keeps the form open with everything typed; so does the console.
                self.form_errors = {str(k): str(v) for k, v in reply.get("errors", {}).items()}
                labels = {f.block_id: f.label for f in render_view(view).inputs}
                problems = "\n".join(
                    f"• {labels.get(k, k)}: {v}" for k, v in self.form_errors.items()
                )
                return f"The form has problems:\n{problems}"
            if reply.get("response_action") == "update" and reply.get("view"):
                # Slack replaces the open form with this view.
                shown = f"── form ──\n{self._show_view(reply['view'])}"
                rest = self._output(status, "")
                return shown if rest == "(no reply)" else f"{shown}\n\n{rest}"
        return self._output(status, "")

    # --- output ----------------------------------------------------------------------------

    def _output(self, status: int, ack_body: str) -> str:
        parts: list[str] = []
        if status >= 400:
            parts.append(f"(the bot answered HTTP {status})")
        ack = _ack_message(ack_body)
        if ack:
            parts.append(
                self._render(
                    ack.get("text"),
                    ack.get("blocks"),
                    {
                        "container": {
                            "type": "message",
                            "message_ts": "0",
                            "channel_id": "D" + self.user,
                            "is_ephemeral": True,
                        }
                    },
                )
            )
        for call in self.slack.calls[self._since :]:
            shown = self._render_call(call)
            if shown:
                parts.append(shown)
        return "\n\n".join(p for p in parts if p) or "(no reply)"

    def _render(
        self,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        source: dict[str, Any],
        *,
        view: dict[str, Any] | None = None,
        owner: str | None = None,
    ) -> str:
        if view is not None:
            rendered: Rendered = render_view(view, start_number=self.next_number)
        else:
            rendered = render_message(text=text, blocks=blocks, start_number=self.next_number)
        message = self.next_message
        self.next_message += 1
        self.live.add(message)
        container = source.get("container") or {}
        if container.get("type") == "message" and container.get("message_ts", "0") != "0":
            self._by_ts[(str(container.get("channel_id")), str(container["message_ts"]))] = message
        for b in rendered.buttons:
            self.buttons[b.number] = _Pressable(b, source, message, owner or self.user)
            self.next_number = max(self.next_number, b.number + 1)
        return rendered.text

    def _replace(self, message: int | None) -> str:
        """Retire ``message``'s buttons; say which numbers went with it."""
        if message is None or message not in self.live:
            return ""
        self.live.discard(message)
        gone = [str(n) for n, p in sorted(self.buttons.items()) if p.message == message]
        return f" (replaces buttons {', '.join(gone)})" if gone else ""

    def _render_call(self, call: RecordedCall) -> str:
        p = call.params
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
            ts = (
                str((call.response or {}).get("ts", "0"))
                if isinstance(call.response, dict)
                else "0"
            )
            answered = call.response if isinstance(call.response, dict) else {}
            channel = str(answered.get("channel") or p.get("channel") or "D" + self.user)
            message = {
                "type": "message",
                "ts": ts,
                "text": p.get("text"),
                "blocks": p.get("blocks"),
            }
            source = {
                "container": {
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel,
                    "is_ephemeral": call.method != "chat.postMessage",
                },
                "message": message,
            }
            label = {
                "chat.postMessage": "bot",
                "chat.update": "bot (updated)",
                "chat.postEphemeral": "bot (only you)",
                "response_url": "bot (only you)",
            }
            target = p.get("user") or self._dm_user(channel)
            if call.method == "chat.postMessage" and target and target != self.user:
                label["chat.postMessage"] = f"bot → DM to {self.describe(target)}"
            replaced = ""
            if call.method == "chat.update":
                replaced = self._replace(self._by_ts.get((channel, str(p.get("ts")))))
            elif call.method == "response_url" and (
                p.get("replace_original") or p.get("delete_original")
            ):
                replaced = self._replace(self._by_response_key.get(call.response_key or ""))
            if p.get("delete_original"):
                return f"{label[call.method]}: (message removed){replaced}"
            if call.method == "response_url" and p.get("replace_original"):
                label["response_url"] = "bot (only you, updated)"
            body = self._render(p.get("text"), p.get("blocks"), source, owner=target or self.user)
            return f"── {label[call.method]}{replaced} ──\n{body}"
        if call.method in ("views.open", "views.push", "views.update", "views.publish"):
            if call.method == "views.publish" and (
                p.get("user_id") not in (None, self.user) or not self.home_requested
            ):
                # Someone else's Home, or a refresh after a change: in Slack it updates a tab
                # the person is not looking at, so the console stays quiet about it.
                return ""
            view = p.get("view") or {}
            view = {**view, "id": ((call.response or {}).get("view") or {}).get("id", "V0")}
            what = "App Home" if call.method == "views.publish" else "form"
            return f"── {what} ──\n{self._show_view(view)}"
        if call.method == "files.completeUploadExternal":
            files = p.get("files") or []
            names = ", ".join(str(f.get("title") or f.get("id")) for f in files) or "a file"
            uploads = ", ".join(str(u.get("filename")) for u in p.get("uploads") or [])
            where = ""
            if p.get("thread_ts"):
                shown = self._by_ts.get((str(p.get("channel_id")), str(p["thread_ts"])))
                where = " in the thread of the message above" if shown else " in a thread"
            return f"── bot shared {names}{f' ({uploads})' if uploads else ''}{where} ──"
        return ""

    def _show_view(self, view: dict[str, Any]) -> str:
        source = {"container": {"type": "view", "view_id": view.get("id", "V0")}, "view": view}
        # A view shown again under its id (views.update), or a Home published again, replaces
        # the one before: its buttons go with it.
        key = "home" if view.get("type") == "home" else str(view.get("id", "V0"))
        self._replace(self._by_view.get(key))
        body = self._render(None, None, source, view=view)
        self._by_view[key] = self.next_message - 1
        if view.get("type") == "modal":
            self.pending_view = view
        return body

    @staticmethod
    def _dm_user(channel: str) -> str | None:
        return channel[1:] if channel.startswith("D") else None

    def modal_inputs(self) -> tuple[InputField, ...]:
        if self.pending_view is None:
            return ()
        return render_view(self.pending_view).inputs


def _ack_message(body: str) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return {"text": body}
    return data if isinstance(data, dict) and (data.get("text") or data.get("blocks")) else None


# --- start-up -----------------------------------------------------------------------------


def load_demo_if_empty(deps: Deps) -> str | None:
    """Load the demo roster into an empty database, dated around this week.

    The roster is generated afresh for this week's Monday (in ORG_TIMEZONE) rather than shifted,
    so wall-clock times stay right across daylight-saving changes; the sessions before today
    have happened (mostly held), so the minutes due so far are mostly delivered.
    """
    import tempfile
    from pathlib import Path

    from bot.domain.schedule import week_monday
    from demo.generate import write_demo_roster
    from storage.roster import import_roster

    if not roster_is_empty(deps):
        return None
    today = deps.clock.now().astimezone(ZoneInfo(deps.settings.org_timezone)).date()
    with tempfile.TemporaryDirectory(prefix="caseload-demo-") as tmp:
        folder = Path(tmp)
        write_demo_roster(folder, today=week_monday(today), now=today)
        report = import_roster(folder, deps.session_factory, now=deps.clock.now())
    if not report.ok:
        raise RuntimeError("the demo roster is invalid: " + "; ".join(report.problems[:3]))
    n = report.counts.get("students")
    return (
        f"Loaded the demo roster ({n.created if n else 0} students) with dates around "
        f"{today:%a %b %-d, %Y}."
    )


def make_console(
    settings: Settings, slack: LocalSlack, as_user: str | None, *, solve_in_processes: bool = False
) -> Console:
    secret = secrets.token_hex(16)
    local = settings.model_copy(
        update={
            "slack_api_url": slack.api_url,
            "slack_bot_token": "xoxb-local-console",
            "slack_signing_secret": secret,
            "listener_threads": 4,
            "match_solves": 1,  # one person at the keyboard
        }
    )
    deps = build_deps(local, slack_retries=0, solve_in_processes=solve_in_processes)
    from bot.app import create_app

    app = create_app(local, deps, process_before_response=True)
    user = as_user or _default_user(deps)
    return Console(app=app, deps=deps, slack=slack, signing_secret=secret, user=user)


def _default_user(deps: Deps) -> str:
    return first_provider(deps) or "U0NOBODY"


def run(
    settings: Settings,
    *,
    as_user: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    interactive = stdin.isatty()
    with LocalSlack() as slack:
        # Solves in a child process, as the servers do: should OR-Tools abort (a native
        # check, not an exception), the console says so and carries on.
        console = make_console(settings, slack, as_user, solve_in_processes=True)
        loaded = load_demo_if_empty(console.deps)
        if as_user is None:
            console.user = _default_user(console.deps)
        out.write("Caseload bot console — no Slack needed. Type /help for commands.\n")
        if loaded:
            out.write(loaded + "\n")
        out.write(f"You are {console.describe(console.user)}.\n")
        out.flush()
        while True:
            if interactive:
                out.write("\nyou> ")
                out.flush()
            line = stdin.readline()
            if not line:
                break
            try:
                reply = console.handle(line)
                if console.pending_view is not None and console.modal_inputs():
                    reply += "\n" + _fill_form(console, stdin, out, interactive)
            except EOFError:
                break
            if reply:
                out.write(reply + "\n")
                out.flush()
        console.deps.engine.dispose()
    return 0


def _fill_form(console: Console, stdin: TextIO, out: TextIO, interactive: bool) -> str:
    """Ask for each field of the open form, then submit it (Enter on an optional field skips).

    If the bot sends the form back with problems, only those fields are asked again, and
    everything else typed is kept, as Slack keeps the form open with its values.
    """
    view = console.pending_view
    assert view is not None
    fields = console.modal_inputs()
    typed: dict[str, str] = {}
    values: dict[str, Any] = {}
    out.write("Fill in the form (an empty line skips an optional field; '.' cancels):\n")
    ask = fields
    while True:
        for field_ in ask:
            again = field_.block_id in typed
            if interactive:
                keep = f" (Enter keeps “{typed[field_.block_id]}”)" if again else ""
                out.write(f"{field_.label}{'' if field_.optional else ' *'}{keep}: ")
                out.flush()
            line = stdin.readline()
            answer = line.rstrip("\n")
            if answer.strip() == "." or (again and not line):
                console.pending_view = None
                console.form_errors = {}
                return "(form cancelled)"
            if again and not answer:
                continue
            typed[field_.block_id] = answer
            values.setdefault(field_.block_id, {})[field_.action_id] = _input_value(field_, answer)
        shown = console.submit_view(view, values)
        if not console.form_errors:
            console.pending_view = None
            return shown
        out.write(shown + "\nFix the fields marked; Enter keeps what you typed.\n")
        out.flush()
        ask = tuple(f for f in fields if f.block_id in console.form_errors) or fields


def _input_value(field_: InputField, answer: str) -> dict[str, Any]:
    """The state value Slack sends for ``answer`` typed into ``field_``."""
    if field_.options:
        chosen = next((v for t, v in field_.options if answer in (t, v)), None)
        return {
            "type": field_.kind,
            "selected_option": {"text": {"type": "plain_text", "text": answer}, "value": chosen}
            if chosen
            else None,
        }
    if field_.kind == "datepicker":
        return {"type": "datepicker", "selected_date": answer or None}
    return {"type": field_.kind, "value": answer or None}

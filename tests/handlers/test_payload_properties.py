"""Handlers: any payload Slack could send (or an attacker could sign) gets an answer, never a
traceback: slash command text, DM text and button values are fuzzed through the real app."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, load_demo_if_empty, make_console
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body

USERS = ["U0DEMOP01", "U0DEMOM01", "U0NOBODY"]
ACTIONS = [
    "availability_save",
    "availability_cancel",
    "availability_undo",
    "match_approve_all",
    "match_approve_provider",
    "match_discard",
    "match_rerun",
    "home_mark_held",
    "home_mark_cancelled",
    "home_mark_no_show",
    "home_run_match",
    "nudge_note_written",
    "nudge_note_menu",
    "nudge_snooze",
    "soap_write_note",
    "soap_view_note",
    "home_minutes_csv",
    "makeup_schedule",
]
text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80),
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "1\x00",
            "00000000-0000-0000-0000-000000000000",
            "-1",
            "99999999999999999999",
            "' OR 1=1 --",
            "P01",
            "anc",
            "U0DEMOP01",
        ]
    ),
)


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Iterator[Console]:
    # ``deps`` empties the database; the console then loads the demo roster.
    with LocalSlack() as slack:
        c = make_console(settings, slack, "U0DEMOP01")
        load_demo_if_empty(c.deps)
        yield c


class Unexpected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def unexpected() -> Iterator[Unexpected]:
    handler = Unexpected()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


fuzz = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(command=st.sampled_from(["/availability", "/match"]), body=text, user=st.sampled_from(USERS))
def test_slash_commands_always_answer(
    console: Console, unexpected: Unexpected, command: str, body: str, user: str
) -> None:
    console.user = user
    reply = console.handle(f"{command} {body}".replace("\n", " "))
    assert reply and "(no reply)" not in reply and "HTTP 5" not in reply
    assert not unexpected.records, unexpected.records[0].getMessage()


@fuzz
@given(
    body=text.filter(
        lambda t: t.strip() and not t.strip().startswith("/") and not t.strip().isdigit()
    ),
    user=st.sampled_from(USERS),
)
def test_direct_messages_always_answer(
    console: Console, unexpected: Unexpected, body: str, user: str
) -> None:
    console.user = user
    reply = console.handle(body.replace("\n", " "))
    assert reply and "(no reply)" not in reply
    assert not unexpected.records, unexpected.records[0].getMessage()


@fuzz
@given(action=st.sampled_from(ACTIONS), value=text, user=st.sampled_from(USERS))
def test_forged_button_values_are_refused_politely(
    console: Console, unexpected: Unexpected, action: str, value: str, user: str
) -> None:
    console._since = len(console.slack.calls)
    body = block_actions_body(
        user_id=user,
        action={
            "action_id": action,
            "block_id": "x",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "x"},
        },
        response_url=console.slack.response_url("fuzz"),
        container={
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "D" + user,
            "is_ephemeral": True,
        },
    )
    status, _ = console._send(body)
    assert status == 200
    assert not unexpected.records, unexpected.records[0].getMessage()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("2147483647", 2147483647),
        ("2147483648", None),
        ("0", None),
        ("-1", None),
        ("99999999999999999999", None),
        ("１２", None),
        ("12a", None),
        ("", None),
        (None, None),
    ],
)
def test_row_ids_from_payloads_are_bounded(value: str | None, expected: int | None) -> None:
    from handlers.common import row_id

    assert row_id(value) == expected

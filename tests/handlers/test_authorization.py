"""Handlers: who may do what, for every command and button, through the real app.

Each row is (action, actor, expected): the provider themselves (U0DEMOP01), another provider
(U0DEMOP02), a manager (U0DEMOM01) and a Slack user who is not in the roster (U0NOBODY).
Requests are real signed Slack payloads dispatched by the console's Bolt app.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, load_demo_if_empty, make_console
from devtools.local_slack import LocalSlack
from storage import models as m

SELF, OTHER, MANAGER, STRANGER = "U0DEMOP01", "U0DEMOP02", "U0DEMOM01", "U0NOBODY"
ROSTER = "I don't have you in the roster yet"
OWN_ONLY = "You can only change your own availability."
MANAGERS_ONLY = "Only provider-success managers can run /match."
ASKER_ONLY = "Only the person who asked for this change can save or undo it."
APPROVERS = "Only provider-success managers can approve proposals."
DISCARDERS = "Only provider-success managers can discard proposals."


# Who may act is the point here, not the proposal's quality: the solver gets 0.2 s.
SOLVER_SECONDS = 0.2


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Iterator[Console]:
    quick = settings.model_copy(update={"match_time_limit_seconds": SOLVER_SECONDS})
    with LocalSlack() as slack:
        c = make_console(quick, slack, SELF)
        load_demo_if_empty(c.deps)
        yield c


def as_user(console: Console, user: str, line: str) -> str:
    console.user = user
    return console.handle(line)


def press_as(console: Console, user: str, label: str, screen: str) -> str:
    """A press by ``user`` of a button on someone else's screen: a crafted request, which the
    console only sends when told to (``forged``); the bot must refuse it itself."""
    number = screen.split(f"] {label}")[0].rsplit("[", 1)[1]
    console.user = user
    return console.press(int(number), forged=True)


COMMANDS = [
    ("/availability", SELF, "Your availability"),
    ("/availability", OTHER, "Your availability"),
    ("/availability", MANAGER, "You're in the roster as a manager, not a provider"),
    ("/availability", STRANGER, ROSTER),
    ("/availability Tue 8-11", SELF, "Replace your weekly availability"),
    ("/availability Tue 8-11", STRANGER, ROSTER),
    ("/availability <@U0DEMOP01> Tue 8-11", SELF, "Replace your weekly availability"),
    ("/availability <@U0DEMOP01> Tue 8-11", OTHER, OWN_ONLY),
    ("/availability <@U0DEMOP01> Tue 8-11", MANAGER, "Replace Rosalind Achterberg's weekly"),
    ("/availability <@U0DEMOP01> Tue 8-11", STRANGER, ROSTER),
    ("Tue 8-11", SELF, "Replace your weekly availability"),  # a DM
    ("Tue 8-11", STRANGER, ROSTER),
    ("/match district=anchorage", SELF, MANAGERS_ONLY),
    ("/match district=anchorage", OTHER, MANAGERS_ONLY),
    ("/match district=anchorage", MANAGER, "Proposal: Anchorage School District"),
    ("/match district=anchorage", STRANGER, ROSTER),
]


@pytest.mark.parametrize(("line", "actor", "expected"), COMMANDS)
def test_commands(console: Console, line: str, actor: str, expected: str) -> None:
    assert expected in as_user(console, actor, line)


@pytest.mark.parametrize(
    ("button", "actor", "expected"),
    [
        ("Save", SELF, "Availability saved"),
        ("Save", OTHER, ASKER_ONLY),
        ("Save", MANAGER, ASKER_ONLY),
        ("Save", STRANGER, ASKER_ONLY),
        ("Cancel", OTHER, ASKER_ONLY),
        ("Cancel", SELF, "Cancelled — nothing was saved."),
    ],
)
def test_availability_preview_buttons(
    console: Console, deps: Deps, button: str, actor: str, expected: str
) -> None:
    screen = as_user(console, SELF, "/availability Wed 9-12")
    assert expected in press_as(console, actor, button, screen)
    with deps.session_factory() as s:
        changes = s.scalar(select(func.count()).select_from(m.AuditLog))
    assert changes == (1 if expected == "Availability saved" else 0)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [(SELF, "Undone"), (OTHER, ASKER_ONLY), (MANAGER, ASKER_ONLY), (STRANGER, ASKER_ONLY)],
)
def test_undo_button(console: Console, actor: str, expected: str) -> None:
    screen = press_as(console, SELF, "Save", as_user(console, SELF, "/availability Wed 9-12"))
    assert expected in press_as(console, actor, "Undo", screen)


@pytest.mark.parametrize(
    ("button", "actor", "expected", "assignments"),
    [
        ("Approve all", MANAGER, "Approved", True),
        ("Approve all", SELF, APPROVERS, False),
        ("Approve all", STRANGER, ROSTER, False),
        ("Approve", MANAGER, "Approved", True),  # one provider's part
        ("Approve", OTHER, APPROVERS, False),
        ("Discard", MANAGER, "Discarded by @U0DEMOM01.", False),
        ("Discard", SELF, DISCARDERS, False),
        ("Discard", STRANGER, ROSTER, False),
    ],
)
def test_proposal_buttons(
    console: Console, deps: Deps, button: str, actor: str, expected: str, assignments: bool
) -> None:
    with deps.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(m.Assignment))
    screen = as_user(console, MANAGER, "/match district=anchorage")
    assert expected in press_as(console, actor, button, screen)
    with deps.session_factory() as s:
        after = s.scalar(select(func.count()).select_from(m.Assignment))
    assert (after > before) is assignments  # type: ignore[operator]

"""Wiring: the console drives the real app with Slack-shaped payloads and no Slack at all."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, load_demo_if_empty, make_console
from devtools.local_slack import LocalSlack

ROOT = Path(__file__).resolve().parents[2]


def test_help_lists_the_commands_and_exits_0(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="/help\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for command in ("/availability", "/match", "/caseload", "/soap", "/deadlines", "/as", "/who"):
        assert command in out.stdout
    assert "Loaded the demo roster (60 students)" in out.stdout
    assert "Traceback" not in out.stderr


def test_demo_is_dated_around_this_week(settings: Settings, deps: Deps) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from storage import models as m

    with LocalSlack() as slack:
        c = make_console(settings, slack, "U0DEMOP01")
        c.deps = deps  # the test's fixed clock: Monday 2026-11-30
        assert load_demo_if_empty(c.deps)
        assert load_demo_if_empty(c.deps) is None  # only into an empty database
    today = deps.clock.now().date()
    with deps.session_factory() as s:
        due = s.scalar(
            select(func.count())
            .select_from(m.Student)
            .where(m.Student.annual_review_due.between(today, today + timedelta(days=7)))
        )
        sessions = s.scalar(
            select(func.count())
            .select_from(m.TherapySession)
            .where(m.TherapySession.starts_at >= deps.clock.now())
        )
    assert due and due > 0  # always something due this week
    assert sessions and sessions > 0


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Console:
    # ``deps`` empties the test database; the console builds its own, as the CLI does.
    with LocalSlack() as slack:
        c = make_console(settings, slack, "U0DEMOP01")
        load_demo_if_empty(c.deps)
        yield c  # type: ignore[misc]


def test_availability_flow_in_the_console(console: Console) -> None:
    preview = console.handle("/availability Tue 8-11 PT")
    assert "Replace your weekly availability" in preview and "[1] Save" in preview
    saved = console.handle("1")
    assert "Availability saved" in saved and "Tue  08:00–11:00" in saved
    dm = console.handle("out Dec 23 - Jan 2")
    assert "Time off" in dm and "Save" in dm
    number = dm.split("] Save")[0].rsplit("[", 1)[1]
    assert "Time off saved" in console.handle(number)
    shown = console.handle("/availability")
    assert "Tue  08:00–11:00" in shown and "Dec 23" in shown
    assert "There is no button 99" in console.handle("99")


def test_provider_cannot_edit_another_and_unknown_user_is_told(console: Console) -> None:
    assert "only change your own" in console.handle("/availability <@U0DEMOP02> Tue 8-11")
    console.handle("/as U0SOMEONE")
    assert "ask your provider-success manager" in console.handle("/availability Tue 8-11")


def test_match_flow_in_the_console(console: Console) -> None:
    assert "Only provider-success managers" in console.handle("/match district=anchorage")
    assert "manager" in console.handle("/as U0DEMOM01")
    proposal = console.handle("/match district=anchorage")
    assert "Matching Anchorage School District… I'll post the proposal in our DM." in proposal
    # A DM message (or, after a slow solve, its "Matching… 2 s" message updated into one).
    assert re.search(r"── bot( \(updated\))? ──\nProposal: Anchorage School District", proposal)
    assert (
        "── bot shared Proposal for Anchorage School District, week of Nov 30 "
        "(proposal-anc-2026-11-30.csv) in the thread of the message above ──"
    ) in proposal
    number = proposal.split("] Approve all")[0].rsplit("[", 1)[1]
    approved = console.handle(number)
    assert "DM to" in approved
    # The proposal itself was updated in place: its buttons are gone, as in Slack.
    updated = approved.split("── bot (updated) (replaces buttons ")[1]
    assert "Proposal: Anchorage School District" in updated
    assert "✅ Approved by @U0DEMOM01: " in updated and "] Approve" not in updated
    assert console.handle(number) == "That message was replaced; use the newer one."


def test_a_replaced_messages_buttons_are_not_pressable(console: Console) -> None:
    preview = console.handle("/availability Tue 8-11")
    save = preview.split("] Save")[0].rsplit("[", 1)[1]
    cancel = preview.split("] Cancel")[0].rsplit("[", 1)[1]
    assert f"[{save}] Save" in console.handle("/buttons")
    saved = console.handle(save)
    assert "Availability saved" in saved
    assert f"replaces buttons {save}" in saved  # the console says which buttons went
    # Slack no longer shows the preview, so its Cancel cannot undo the save.
    assert console.handle(cancel) == "That message was replaced; use the newer one."
    assert f"[{cancel}]" not in console.handle("/buttons")


def test_home_tab_in_the_console(console: Console) -> None:
    home = console.handle("/home")
    assert "App Home" in home and "Your availability" in home


def _button(screen: str, label: str) -> str:
    return screen.split(f"] {label}")[0].rsplit("[", 1)[1]


def test_issue_flows_in_the_console(console: Console) -> None:
    dm = console.handle("out Friday afternoon")
    assert "Time off for you" in dm and "12:00–16:00" in dm
    assert "Time off saved for those hours" in console.handle(_button(dm, "Save"))

    console.handle(_button(console.handle("out Dec 7"), "Save"))
    cancel = console.handle("cancel time off Dec 7")
    assert "Cancel time off for you" in cancel
    assert "Time off cancelled" in console.handle(_button(cancel, "Save"))

    preview = console.handle("/availability Tue 9-12")
    assert "hours will be removed" in preview and "Change Tue only" in preview
    kept = console.handle(_button(preview, "Change Tue only"))
    assert "Availability saved" in kept and "Tue  09:00–12:00" in kept
    assert kept.count("  ") > 2  # the other days are still listed
    assert "nothing to save" in console.handle("/availability add Tue 9-12")


def test_a_manager_names_a_provider_with_a_plain_mention_and_sees_whose_schools(
    console: Console,
) -> None:
    assert "only change your own" in console.handle("/availability @U0DEMOP02 Tue 8-11")
    console.handle("/as U0DEMOM01")
    preview = console.handle("/availability @U0DEMOP02 Tue 8-11")
    assert "weekly availability" in preview
    assert "(your schools)" not in preview
    saved = console.handle(_button(preview, "Save whole week"))
    # The provider hears of it at once, before → after, and whose change it was.
    dm = saved.split("── bot → DM to U0DEMOP02")[1].split("── bot")[0]
    assert "Priya Venkataraman changed your hours." in dm
    assert "Before" in dm and "After" in dm and "Tue  08:00–11:00" in dm


def test_clock_runs_the_sweeps_and_shows_the_dms_to_whom(console: Console) -> None:
    assert "Usage: /clock" in console.handle("/clock tomorrow")
    shown = console.handle("/clock 2026-11-30T17:00Z")
    assert "clock at Mon 2026-11-30 17:00 UTC" in shown
    assert "sent" in shown and "DM to" in shown
    again = console.handle("/clock 2026-11-30T17:00Z")
    assert "DM to" not in again  # the same instant sends nothing twice


def test_changes_flow_in_the_console_reaches_the_manager_who_finds_new_times(
    console: Console,
) -> None:
    """A match approved, a provider's "no longer Thursdays" names the students it leaves out,
    the managers' DM offers [Find new times], and after /as the manager presses it."""
    console.handle("/as U0DEMOM01")
    proposal = console.handle("/match district=anc")
    assert "Approved" in console.handle(_button(proposal, "Approve all"))
    console.handle("/as U0DEMOP01")
    preview = console.handle("no longer Thursdays")
    # However many of their approved sessions were on Thursdays (the matcher's plan decides).
    assert re.search(r"\b[1-9]\d* weekly sessions? falls? outside your new hours", preview)
    saved = console.handle(_button(preview, "Save"))
    to_manager = saved.split("── bot → DM to U0DEMOM01")[1].split("── bot")[0]
    find = _button(to_manager, "Find new times")
    # Not the provider's button: the console says whose it is.
    assert "/as U0DEMOM01 to press it" in console.handle(find)
    switched = console.handle("/as U0DEMOM01")
    assert f"[{find}] Find new times" in switched
    found = console.handle(find)
    assert (
        "Proposal: Anchorage School District" in found and "Thu" not in found.split("Proposal")[1]
    )

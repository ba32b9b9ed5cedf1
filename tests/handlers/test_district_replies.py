"""Handlers: `district=…` that names no district, or several, gets the close matches and the
districts the manager serves, escaped, from the one resolver /match, /caseload, /deadlines and
/minutes share (bot/services/districts.py). Demo roster: M01 serves every district, M02
Anchorage, M03 Mesa and Pflugerville (Texas)."""

from __future__ import annotations

import pytest

from bot.deps import Deps
from devtools.local_slack import LocalSlack
from storage import models as m
from tests.support.app_driver import Driver

EVERY, ANC_ONLY, MESA_TX = "U0DEMOM01", "U0DEMOM02", "U0DEMOM03"
MESA_TX_DISTRICTS = (
    "Your districts: Mesa Public Schools (`mesa`), Pflugerville ISD (`pflugerville`)."
)


def said(deps: Deps, slack: LocalSlack, user: str, command: str, text: str) -> str:
    return Driver(deps, slack).slash(user, command, text).said()


def test_match_texas_names_the_texas_district_and_the_managers_own(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    reply = Driver(demo_deps, slack).slash(MESA_TX, "/match", "district=texas")
    assert reply.ack_json()["text"] == (
        "I don't know a district called `texas`. Did you mean Pflugerville ISD "
        f"(`pflugerville`)? {MESA_TX_DISTRICTS}"
    )


def test_a_misspelt_name_gets_its_district_and_an_admin_is_told_they_serve_every_one(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    text = Driver(demo_deps, slack).slash(EVERY, "/match", "district=anchorge").ack_json()["text"]
    assert text == (
        "I don't know a district called `anchorge`. Did you mean Anchorage School District "
        "(`anc`)? You serve every district: Anchorage School District (`anc`), Mesa Public "
        "Schools (`mesa`), Pflugerville ISD (`pflugerville`)."
    )


def test_a_misspelt_id_is_matched_too(demo_deps: Deps, slack: LocalSlack) -> None:
    text = said(demo_deps, slack, ANC_ONLY, "/match", "district=pflugervile")
    assert "Did you mean Pflugerville ISD (`pflugerville`)?" in text
    assert "Your districts: Anchorage School District (`anc`)." in text


def test_several_matches_are_listed_with_the_managers_districts(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    text = said(demo_deps, slack, ANC_ONLY, "/caseload", "district=school")
    assert (
        "`school` matches several districts: Anchorage School District (`anc`), Mesa Public "
        "Schools (`mesa`). Use the id, e.g. `district=anc`. Your districts: Anchorage School "
        "District (`anc`)."
    ) in text


@pytest.mark.parametrize("command", ["/match", "/caseload", "/deadlines", "/minutes"])
def test_every_district_command_shares_the_resolver(
    demo_deps: Deps, slack: LocalSlack, command: str
) -> None:
    text = said(demo_deps, slack, MESA_TX, command, "district=atlantis")
    assert "I don't know a district called `atlantis`." in text
    assert MESA_TX_DISTRICTS in text


def test_what_was_typed_and_the_roster_names_are_escaped(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    with demo_deps.session_factory.begin() as s:
        s.add(
            m.District(id="smith", name="Smith & <Jones>", state="TX", timezone="America/Chicago")
        )
    text = said(demo_deps, slack, EVERY, "/deadlines", "district=<!here>&texas")
    assert "`&lt;!here&gt;&amp;texas`" in text and "<!here>" not in text
    assert "Smith &amp; &lt;Jones&gt; (`smith`)" in text
    texas = said(demo_deps, slack, EVERY, "/match", "district=texas")
    assert "Did you mean Pflugerville ISD (`pflugerville`), Smith &amp; &lt;Jones&gt;" in texas


def test_someone_who_is_no_manager_gets_no_district_list(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    text = said(demo_deps, slack, "U0DEMOP01", "/deadlines", "district=atlantis")
    assert "I don't know a district called `atlantis`." in text
    assert "Your districts" not in text and "every district" not in text

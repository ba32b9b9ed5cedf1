"""Handlers: the manager's Home shows each district's hiring needs from its latest whole-district
proposal, in one block, and nothing when no proposal asks for a hire."""

from __future__ import annotations

import json
from datetime import date

from bot.deps import Deps
from bot.services import home as svc
from devtools.local_slack import LocalSlack
from devtools.proposals import wait_for_proposals
from handlers.home_blocks import hiring_blocks, home_view
from tests.support.app_driver import Driver

MANAGER = "U0DEMOM01"


def test_home_shows_the_latest_whole_district_proposals_hires(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    manager = svc.home_for(demo_deps, MANAGER).manager
    assert manager is not None and manager.hiring == ()
    driver = Driver(demo_deps, slack)
    driver.slash(MANAGER, "/match", "district=anchorage")
    wait_for_proposals(slack)
    manager = svc.home_for(demo_deps, MANAGER).manager
    assert manager is not None
    [need] = manager.hiring  # the demo's three Anchorage OT students: no OT licensed in AK
    assert (need.district, need.service, need.state, need.would_serve) == (
        "Anchorage School District",
        "ot",
        "AK",
        3,
    )
    # A proposal for part of the district (service=slp) says nothing about its OT needs.
    driver.slash(MANAGER, "/match", "district=anchorage service=slp")
    wait_for_proposals(slack, 2)
    again = svc.home_for(demo_deps, MANAGER).manager
    assert again is not None and again.hiring == manager.hiring
    view = json.dumps(home_view(svc.home_for(demo_deps, MANAGER)))
    assert "Hiring needs" in view and "1 OT licensed in AK, about " in view


def need(i: int) -> svc.HiringNeed:
    return svc.HiringNeed(
        "anc",
        "Anchorage <School>",
        date(2026, 11, 29),
        "ot",
        "AK",
        3.0,
        (("mon", "08:00", "11:00"), ("wed", "08:00", "11:00")),
        "America/Anchorage",
        i,
    )


def test_hiring_needs_are_one_block_clipped_and_absent_when_none() -> None:
    assert hiring_blocks([]) == []
    [one] = hiring_blocks([need(3)])
    text = one.to_dict()["text"]["text"]
    assert (
        "• *Anchorage &lt;School&gt;*, Nov 29: 1 OT licensed in AK, about 3 h a week, "
        "Mon 08:00–11:00, Wed 08:00–11:00 AKT, would serve 3 students"
    ) in text
    [many] = hiring_blocks([need(i + 1) for i in range(30)])
    text = many.to_dict()["text"]["text"]
    assert text.count("\n• ") == 12 and text.endswith("…and 18 more hire profiles")

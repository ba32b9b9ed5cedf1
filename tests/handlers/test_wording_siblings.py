"""Handlers and views: the replies' wording. Who approved a proposal is named the way the reader
needs it ("you", or a mention); counts take the right plural; every bold span is built by the
one helper, so a name with a ``*`` or a bold fragment inside a bold title never breaks it.

Each case below pins one reply that used to read wrong.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from bot.domain.minutes import Month
from bot.services.coverage import DistrictCoverage
from bot.services.deadlines import DeadlineItem
from bot.services.digest import REVIEW_DAYS, WeeklyDigest
from bot.services.home import ManagerHome
from bot.services.matching import Approval, Proposal, ProviderPlan
from bot.services.matching.proposals import SessionOut
from bot.services.minutes import DistrictMinutes
from bot.services.nudges.buttons import ReviewHeld
from bot.views.digest import digest_text
from handlers.home_blocks import manager_blocks
from handlers.match_blocks import MAX_PROVIDER_SECTIONS, _clip, approval_blocks, proposal_blocks
from handlers.minutes_blocks import district_minutes_blocks
from handlers.nudge_blocks import review_held_text

ROOT = Path(__file__).resolve().parents[2]
NESTED_BOLD = re.compile(r"\*[^*\n]+ \*[^*\n]+\*\*")


def texts(blocks: list[Any]) -> str:
    return json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)


def approval(**kw: Any) -> Approval:
    base: dict[str, Any] = {
        "proposal_id": "p1",
        "already": True,
        "approved_by": "U0M1",
        "created": 0,
        "notified": (),
        "not_notified": (),
        "district_id": "anc",
    }
    return Approval(**{**base, **kw})


def test_already_approved_names_you_or_the_other_manager() -> None:
    assert "Already approved by you. Nothing changed." in texts(approval_blocks(approval(), "U0M1"))
    theirs = texts(approval_blocks(approval(), "U0M2"))
    assert "Already approved by <@U0M1>. Nothing changed." in theirs
    assert "another manager" not in theirs
    unknown = texts(approval_blocks(approval(approved_by=""), "U0M2"))
    assert "Already approved. Nothing changed." in unknown


def test_one_assignment_is_one_assignment() -> None:
    one = texts(approval_blocks(approval(already=False, created=1), "U0M1"))
    assert "✅ Approved: *1 assignment* created." in one
    three = texts(approval_blocks(approval(already=False, created=3), "U0M1"))
    assert "✅ Approved: *3 assignments* created." in three


def plan(pid: str, name: str) -> ProviderPlan:
    session = SessionOut(
        student_ids=("S1",),
        student_labels=("K.N. (S1)",),
        service="slp",
        school_id="SCH1",
        school_name="Birchwood",
        day="tue",
        start="09:00",
        end="09:30",
        timezone="America/Anchorage",
        provider_day="tue",
        provider_start="09:00",
        provider_end="09:30",
        minutes=30,
    )
    return ProviderPlan(pid, name, None, "America/Anchorage", (session,), 30, 0, 600)


def proposal(plans: tuple[ProviderPlan, ...], total: int = 1) -> Proposal:
    return Proposal(
        proposal_id="p1",
        district_id="anc",
        district_name="Anchorage",
        week_of=date(2026, 12, 7),
        plans=plans,
        unmatched=(),
        unmatched_labels={},
        students_total=total,
        students_served=len(plans),
        method="cp-sat",
        solve_seconds=0.1,
    )


def test_a_proposal_of_one_reads_in_the_singular_and_bold_never_nests() -> None:
    said = texts(proposal_blocks(proposal((plan("P1", "Ana *Star* Reyes"),))))
    assert "Week of Dec 7: *1 of 1 student service* served (100%) · *1 provider* · *0.5 h*" in said
    assert "*Ana Star Reyes* — " in said  # a name's own * cannot open a second bold span
    assert "Create 1 weekly session for 1 provider and DM each of them." in said
    assert "1 providers" not in said and "1 student services" not in said
    assert not NESTED_BOLD.search(said)


def test_a_proposal_with_one_provider_too_many_says_one_more_provider() -> None:
    plans = tuple(plan(f"P{i}", f"P {i}") for i in range(MAX_PROVIDER_SECTIONS + 1))
    said = texts(proposal_blocks(proposal(plans, total=len(plans))))
    assert "…and 1 more provider — the full proposal is in the CSV." in said
    assert f"*{len(plans)} of {len(plans)} student services* served" in said


def test_a_clipped_plan_counts_its_lines_in_the_singular() -> None:
    assert _clip("\n".join(["x" * 60] * 2), limit=100).endswith("\n… 1 more line in the CSV")
    assert _clip("\n".join(["x" * 60] * 3), limit=125).endswith("\n… 2 more lines in the CSV")


def test_home_coverage_of_one_service() -> None:
    home = ManagerHome(
        coverage=(DistrictCoverage("anc", "Anchorage *School*", 1, 1),),
        unserved=(),
        notes=(),
        licences=(),
    )
    said = texts(manager_blocks(home))
    assert "*Anchorage School*: 1 of 1 student service served (100%)" in said
    assert not NESTED_BOLD.search(said)


def test_district_minutes_of_one_service() -> None:
    d = DistrictMinutes("anc", "Anchorage", Month(2026, 12), 1, (), ())
    said = texts(district_minutes_blocks(d))
    assert "*Anchorage, December 2026*: 0 students behind of 1 student service · " in said


def test_the_digest_counts_a_one_day_licence_window_in_the_singular() -> None:
    lic = DeadlineItem("licence", date(2026, 12, 1), 1, "AK licence AK-1", "Ana Reyes", "")
    d = WeeklyDigest(
        week_of=date(2026, 11, 30),
        districts=None,
        coverage=(),
        unserved=(),
        notes=(),
        escalate_days=7,
        overdue=(),
        reviews=(),
        licences=(lic,),
        licence_days=1,
        unreachable=(),
    )
    text = digest_text(d)
    assert "*Licences ending in the next 1 day* (1)" in text
    assert f"*IEP reviews due in the next {REVIEW_DAYS} days* (0)" in text
    assert not NESTED_BOLD.search(text)


def test_a_student_label_with_a_star_stays_one_bold_span() -> None:
    held = ReviewHeld("A*B (S1)", date(2026, 11, 30), date(2027, 11, 30), False)
    assert review_held_text(held).startswith("✅ Review for *AB (S1)* recorded as held")


def _regex_patterns(tree: ast.AST) -> set[int]:
    """ids of string constants that are regular expressions (``re.compile(...)`` arguments)."""
    return {
        id(arg)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "compile"
        for arg in n.args
    }


def test_every_bold_span_in_replies_comes_from_the_one_helper() -> None:
    """No reply text in handlers/ or bot/views/ writes a ``*`` itself: ``bold`` does, and it
    never nests."""
    offenders = []
    for folder in ("handlers", "bot/views"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "bot" / "views" / "format.py":
                continue
            tree = ast.parse(path.read_text())
            patterns = _regex_patterns(tree)
            offenders += [
                f"{path.relative_to(ROOT)}:{n.lineno}"
                for n in ast.walk(tree)
                if isinstance(n, ast.Constant)
                and isinstance(n.value, str)
                and "*" in n.value
                and id(n) not in patterns
            ]
    assert offenders == []

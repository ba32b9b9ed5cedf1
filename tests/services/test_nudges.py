"""Services: deadline nudges on the real database, the fake Slack Web API and a fixed clock.

The clock starts at Monday 2026-11-30 17:00Z: 09:00 Pacific, 08:00 Alaska, 12:00 Eastern.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services import nudges as svc
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.nudges.delivery import _claim
from bot.views.nudges import NudgeIds
from devtools.local_slack import LocalSlack
from handlers import nudges as listeners
from storage import models as m

LA, AK, NY = "America/Los_Angeles", "America/Anchorage", "America/New_York"
TODAY = date(2026, 11, 30)


# --- a small roster, built per test --------------------------------------------------------


def seed(deps: Deps, *, providers: dict[str, str] | None = None, managers: int = 1) -> None:
    """District, one school (Spenard & <Co>), providers P1.. in the given zones, managers M1.."""
    with deps.session_factory.begin() as s:
        s.add(m.District(id="anc", name="Anchorage", state="AK", timezone=AK))
        s.add(m.School(id="SCH", district_id="anc", name="Spenard & <Co>", timezone=None))
        s.flush()
        for pid, tz in (providers or {"P1": LA}).items():
            s.add(
                m.Provider(
                    id=pid,
                    name=f"Pat {pid}",
                    email=f"{pid}@example.org",
                    slack_user_id=f"U{pid}",
                    discipline="slp",
                    home_state="AK",
                    timezone=tz,
                    weekly_hours=Decimal(20),
                )
            )
        for i in range(1, managers + 1):
            s.add(
                m.Manager(
                    id=f"M{i}", name=f"Max M{i}", email=f"m{i}@example.org", slack_user_id=f"UM{i}"
                )
            )
        s.flush()


def student(
    s: Session,
    sid: str,
    *,
    annual_in: int = 200,
    triennial_in: int | None = None,
    provider: str | None = "P1",
) -> None:
    s.add(
        m.Student(
            id=sid,
            school_id="SCH",
            first_name="Mateo",
            last_name="Zeller",
            grade="3",
            annual_review_due=TODAY + timedelta(days=annual_in),
            triennial_due=None if triennial_in is None else TODAY + timedelta(days=triennial_in),
        )
    )
    s.flush()  # no ORM relationships: insert the student before what refers to it
    if provider:
        s.add(m.Assignment(student_id=sid, service="slp", provider_id=provider))
        s.flush()


def session(
    s: Session,
    sid: str,
    ended_ago: timedelta,
    *,
    status: str = "held",
    provider: str = "P1",
    note: bool = False,
    now: datetime = datetime(2026, 11, 30, 17, tzinfo=UTC),
) -> None:
    starts = now - ended_ago - timedelta(minutes=30)
    s.add(
        m.TherapySession(
            session_key=f"K{sid}{starts:%m%d%H%M}",
            provider_id=provider,
            student_id=sid,
            service="slp",
            starts_at=starts,
            minutes=30,
            status=status,
            note_done_at=starts + timedelta(hours=1) if note else None,
        )
    )


def licence(s: Session, expires_in: int, *, provider: str = "P1", state: str = "AZ") -> None:
    s.add(
        m.License(
            provider_id=provider,
            state=state,
            expires_on=TODAY + timedelta(days=expires_in),
            license_number=f"{state}-SLP-00042",
        )
    )


def run(deps: Deps) -> svc.RunReport:
    return svc.run_once(deps)


def dms(slack: LocalSlack) -> dict[str, list[dict[str, Any]]]:
    """Successful chat.postMessage calls by DM channel."""
    out: dict[str, list[dict[str, Any]]] = {}
    for call in slack.calls_to("chat.postMessage"):
        if call.ok:
            out.setdefault(str(call.params["channel"]), []).append(call.params)
    return out


def blob(params: dict[str, Any]) -> str:
    return json.dumps(params["blocks"])


def pending(deps: Deps) -> list[m.Nudge]:
    with deps.session_factory() as s:
        return list(
            s.scalars(
                select(m.Nudge).where(m.Nudge.sent_at.is_(None), m.Nudge.skipped_at.is_(None))
            )
        )


def element(params: dict[str, Any], action_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in params["blocks"]:
        candidates = [block.get("accessory")] + list(block.get("elements", []))
        for el in candidates:
            if el and el.get("action_id") == action_id:
                return block, el
    raise AssertionError(f"no {action_id} in {params['blocks']}")


# --- each rule -----------------------------------------------------------------------------


def test_annual_review_goes_to_the_assigned_provider_at_its_stage(
    deps: Deps, slack: LocalSlack
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=12)
        student(s, "S2", annual_in=40)  # too early for any stage
        student(s, "S3", annual_in=12, provider=None)  # nobody to tell
    report = run(deps)
    assert report.delivery.messages == 1
    [dm] = dms(slack)["DUP1"]
    assert "Annual IEP reviews" in blob(dm) and "M.Z. (S1)" in blob(dm)
    assert "in 12 days" in blob(dm) and "S2" not in blob(dm) and "S3" not in blob(dm)
    assert "Mateo" not in json.dumps(dm) and "Zeller" not in json.dumps(dm)  # initials only
    assert "Spenard &amp; &lt;Co&gt;" in blob(dm)  # roster text is escaped in mrkdwn
    block, picker = element(dm, NudgeIds.REVIEW_HELD)
    assert picker["type"] == "datepicker" and block["block_id"].startswith("nudge_review:")
    assert dm["text"] == "Reminders: 1 IEP deadline"  # the notification names nobody


def test_overdue_reviews_and_triennials_go_to_the_provider_once_and_never_to_managers(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    """Managers hear of what is overdue in their weekly digest (``bot.services.digest``)."""
    seed(deps, managers=2)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=-2)
        student(s, "S2", triennial_in=-400)
    run(deps)
    sent = dms(slack)
    assert sorted(sent) == ["DUP1"]
    assert "2 days overdue" in blob(sent["DUP1"][0])
    assert "Triennial re-evaluations" in blob(sent["DUP1"][0])
    assert "400 days overdue" in blob(sent["DUP1"][0])
    slack.clear()
    clock.advance(days=1)
    run(deps)
    assert dms(slack) == {}  # the overdue stage is told once


def test_triennial_stage(deps: Deps, slack: LocalSlack) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", triennial_in=45)
    run(deps)
    [dm] = dms(slack)["DUP1"]
    assert "Triennial re-evaluations" in blob(dm) and "in 45 days" in blob(dm)
    with deps.session_factory() as s:
        assert s.scalar(select(m.Nudge.stage).where(m.Nudge.rule == "triennial")) == "60"


def test_overdue_soap_notes_come_as_one_dm_a_day(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1")
        student(s, "S2")
        session(s, "S1", timedelta(hours=72))  # overdue
        session(s, "S2", timedelta(hours=49), status="scheduled")  # over, never marked: overdue
        session(s, "S1", timedelta(hours=47))  # not yet 48 h
        session(s, "S2", timedelta(hours=80), status="cancelled")  # needs no note
        session(s, "S1", timedelta(hours=90), note=True)  # written
    run(deps)
    [dm] = dms(slack)["DUP1"]
    assert "SOAP notes overdue* (2)" in blob(dm)
    assert blob(dm).count(NudgeIds.NOTE_MENU) == 2
    assert "Zeller" not in blob(dm)

    slack.clear()
    clock.advance(hours=2)  # the 47-hour one is overdue now, but today's DM went
    run(deps)
    assert dms(slack) == {}

    clock.advance(hours=22)  # Tuesday: one DM again, with all three
    run(deps)
    [again] = dms(slack)["DUP1"]
    assert "SOAP notes overdue* (3)" in blob(again)


@pytest.mark.parametrize(("expires_in", "stage"), [(50, "60"), (20, "30"), (5, "7"), (-1, None)])
def test_licence_expiry(deps: Deps, slack: LocalSlack, expires_in: int, stage: str | None) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        licence(s, expires_in)
    run(deps)
    sent = dms(slack)
    if stage is None:
        assert sent == {}
        return
    [dm] = sent["DUP1"]
    assert "Your *AZ* licence AZ-SLP-00042 expires" in blob(dm)
    assert sorted(sent) == ["DUP1"]  # managers see it in their weekly digest


# --- exactly once --------------------------------------------------------------------------


def busy_provider(deps: Deps) -> None:
    """P1 with one of everything; P2 (Eastern) with one review."""
    seed(deps, providers={"P1": LA, "P2": NY})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3, triennial_in=20)
        student(s, "S2", annual_in=-1)
        student(s, "S3", annual_in=7, provider="P2")
        session(s, "S1", timedelta(days=3))
        licence(s, 25)


def test_one_dm_per_recipient_combines_all_their_items(deps: Deps, slack: LocalSlack) -> None:
    busy_provider(deps)
    report = run(deps)
    sent = dms(slack)
    assert sorted(sent) == ["DUP1", "DUP2"]
    [dm] = sent["DUP1"]
    for part in ("Annual IEP reviews", "Triennial", "SOAP notes overdue", "Licences"):
        assert part in blob(dm)
    assert dm["text"] == ("Reminders: 3 IEP deadlines, 1 overdue SOAP note, 1 licence expiring")
    assert report.delivery.messages == 2


def test_a_rerun_at_the_same_instant_sends_nothing_new(deps: Deps, slack: LocalSlack) -> None:
    busy_provider(deps)
    run(deps)
    posted = len(slack.calls_to("chat.postMessage"))
    again = run(deps)
    assert sum(again.queued.values()) == 0 and again.delivery.messages == 0
    assert len(slack.calls_to("chat.postMessage")) == posted
    with deps.session_factory() as s:
        keys = s.scalars(select(m.Nudge.key)).all()
        assert len(keys) == len(set(keys))


def test_a_429_then_success_sends_once(deps: Deps, slack: LocalSlack) -> None:
    busy_provider(deps)
    slack.fail_next("chat.postMessage", 429, retry_after=1)
    report = run(deps)
    assert report.delivery.error is None
    posts = slack.calls_to("chat.postMessage")
    assert [c.status for c in posts].count(429) == 1
    assert sorted(dms(slack)) == ["DUP1", "DUP2"] and len(dms(slack)["DUP1"]) == 1
    assert pending(deps) == []


def test_a_5xx_leaves_it_for_the_next_run(deps: Deps, slack: LocalSlack) -> None:
    busy_provider(deps)
    slack.fail_next("chat.postMessage", 503, times=2)  # the first DM and its one retry
    first = run(deps)
    assert first.delivery.error is not None and first.delivery.failed == 1
    assert first.delivery.messages == 1  # one person's failure does not block the others
    assert first.delivery.left == len(pending(deps)) > 0
    with deps.session_factory() as s:
        unsent = m.Nudge.sent_at.is_(None)
        assert s.scalar(select(func.count()).where(unsent, m.Nudge.claimed_by.is_not(None))) == 0
        assert s.scalar(select(func.count()).where(unsent, m.Nudge.last_error.is_not(None))) > 0
    second = run(deps)
    assert second.delivery.error is None and second.delivery.messages == 1
    assert pending(deps) == []
    assert {k: len(v) for k, v in dms(slack).items()} == {"DUP1": 1, "DUP2": 1}


def test_two_failures_in_a_row_stop_the_run(deps: Deps, slack: LocalSlack) -> None:
    busy_provider(deps)
    # Answers that are not retried inside the call keep this fast; the path is the same.
    slack.fail_next("chat.postMessage", 200, error="fatal_error", times=2)
    report = run(deps)
    assert (report.delivery.failed, report.delivery.messages) == (2, 0)
    assert run(deps).delivery.messages == 2


def test_pacific_and_alaska_providers_get_nothing_at_08z_and_get_it_in_their_window(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps, providers={"P1": LA, "P2": AK, "P3": NY})
    with deps.session_factory.begin() as s:
        for sid, pid in (("S1", "P1"), ("S2", "P2"), ("S3", "P3")):
            student(s, sid, annual_in=10, provider=pid)
    clock.at = datetime(2026, 11, 30, 8, tzinfo=UTC)  # 00:00 Pacific, Sunday 23:00 in Alaska
    report = run(deps)
    assert report.delivery.messages == 0 and dms(slack) == {}
    waits = {n.recipient_id: n.send_after for n in pending(deps)}
    assert waits["P1"] == datetime(2026, 11, 30, 16, tzinfo=UTC)  # 08:00 PST
    assert waits["P2"] == datetime(2026, 11, 30, 17, tzinfo=UTC)  # 08:00 AKST
    assert waits["P3"] == datetime(2026, 11, 30, 13, tzinfo=UTC)  # 08:00 EST

    clock.at = datetime(2026, 11, 30, 16, tzinfo=UTC)
    run(deps)
    assert sorted(dms(slack)) == ["DUP1", "DUP3"]
    clock.at = datetime(2026, 11, 30, 17, tzinfo=UTC)
    run(deps)
    assert sorted(dms(slack)) == ["DUP1", "DUP2", "DUP3"]
    assert all(len(v) == 1 for v in dms(slack).values())


def test_a_row_due_outside_working_hours_waits_for_the_next_window(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps, providers={"P1": NY})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=10)
    slack.fail_next("chat.postMessage", 503, times=2)
    assert run(deps).delivery.error  # queued at 12:00 New York, Slack down
    clock.at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 18:30 in New York
    report = run(deps)
    assert report.delivery.messages == 0 and report.delivery.held == 1
    [row] = pending(deps)
    assert row.send_after == datetime(2026, 12, 1, 13, tzinfo=UTC)
    clock.at = datetime(2026, 12, 1, 13, tzinfo=UTC)
    assert run(deps).delivery.messages == 1


def test_after_downtime_a_superseded_stage_is_dropped_unsent(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=20)
    clock.at = datetime(2026, 11, 30, 8, tzinfo=UTC)  # queued (30-day stage), held till 08:00
    run(deps)
    clock.at = datetime(2026, 12, 14, 17, tzinfo=UTC)  # back after two weeks: 6 days left
    report = run(deps)
    [dm] = dms(slack)["DUP1"]
    assert "in 6 days" in blob(dm) and blob(dm).count("M.Z. (S1)") == 1
    assert report.delivery.skipped == 1
    with deps.session_factory() as s:
        stages = {st: err for st, err in s.execute(select(m.Nudge.stage, m.Nudge.last_error))}
    assert stages == {"30": "superseded", "7": None}


def test_a_second_worker_sends_nothing_a_first_has_claimed(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    """What a SIGKILL between post and mark-sent leaves: the lease holds the row until it
    lapses; only then is the DM sent again (the one repeat the design allows)."""
    busy_provider(deps)
    for sweep in (svc.sweep_annual_reviews, svc.sweep_triennials):
        sweep(deps)
    claimed = _claim(deps, "dead-worker", [("provider", "P1")], clock.now())
    assert claimed
    report = svc.deliver(deps, worker="second")
    assert report.messages == 1 and sorted(dms(slack)) == ["DUP2"]
    clock.advance(minutes=6)  # the dead worker's lease has lapsed
    assert svc.deliver(deps, worker="second").messages == 1


def test_an_assignment_dm_matching_could_not_send_goes_out_with_the_nudges(
    deps: Deps, slack: LocalSlack
) -> None:
    from bot.services.matching import deliver_assignment_dms

    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3)
        s.add(
            m.Nudge(
                key="assignment:prop1:P1",
                rule="assignment",
                recipient_kind="provider",
                recipient_id="P1",
                subject_id="prop1",
                stage="new",
                payload={"text": "You have new students: M.Z. (S1) <Tue 09:00>"},
                created_at=datetime(2026, 11, 30, 16, tzinfo=UTC),
                send_after=datetime(2026, 11, 30, 16, tzinfo=UTC),
                attempts=1,
            )
        )
    run(deps)
    [dm] = dms(slack)["DUP1"]  # one DM: the new students and the review
    assert "You have new students: M.Z. (S1) &lt;Tue 09:00&gt;" in blob(dm)
    assert "Annual IEP reviews" in blob(dm)
    assert dm["text"] == "Reminders: 1 new assignment, 1 IEP deadline"
    assert deliver_assignment_dms(deps, ["assignment:prop1:P1"]) == ((), ())


def test_a_recipient_without_slack_is_skipped_not_retried_forever(
    deps: Deps, slack: LocalSlack
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        s.execute(update(m.Provider).values(slack_user_id=None))
        student(s, "S1", annual_in=3)
    report = run(deps)
    assert report.delivery.skipped == 1 and pending(deps) == []


# --- the buttons ---------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def press(
    deps: Deps, handler: Any, dm: dict[str, Any], action: dict[str, Any], user: str = "UP1"
) -> Recorder:
    ack, respond = Recorder(), Recorder()
    body = {"user": {"id": user}, "message": {"text": dm["text"], "blocks": dm["blocks"]}}
    handler(ack=ack, body=body, action=action, respond=respond, context={"deps": deps})
    assert len(ack.calls) == 1
    return respond


def test_review_held_records_the_date_once(deps: Deps, slack: LocalSlack) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3)
    run(deps)
    [dm] = dms(slack)["DUP1"]
    block, _ = element(dm, NudgeIds.REVIEW_HELD)
    action = {
        "action_id": NudgeIds.REVIEW_HELD,
        "block_id": block["block_id"],
        "type": "datepicker",
        "selected_date": "2026-11-25",
    }
    respond = press(deps, listeners.handle_nudge_review_held_action, dm, action)
    [answer] = respond.calls
    assert answer["replace_original"] is True
    assert "recorded as held Wed Nov 25" in json.dumps(answer["blocks"])
    assert NudgeIds.REVIEW_HELD not in json.dumps(answer["blocks"])
    with deps.session_factory() as s:
        assert s.get(m.Student, "S1").annual_review_due == date(2027, 11, 25)  # type: ignore[union-attr]
        [audit] = s.scalars(select(m.AuditLog)).all()
        assert (audit.action, audit.actor, audit.subject_id) == (
            "annual_review.held",
            "provider:P1",
            "S1",
        )
        assert audit.before == {"annual_review_due": "2026-12-03"}

    # A double click (even with another date) changes nothing.
    again = press(
        deps,
        listeners.handle_nudge_review_held_action,
        dm,
        action | {"selected_date": "2026-11-20"},
    )
    assert "Already recorded" in json.dumps(again.calls[0]["blocks"])
    with deps.session_factory() as s:
        assert s.get(m.Student, "S1").annual_review_due == date(2027, 11, 25)  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(m.AuditLog)) == 1
    # The review is no longer due: the next sweeps have nothing to say about it.
    slack.clear()
    run(deps)
    assert dms(slack) == {}


def test_review_held_refuses_future_dates_and_strangers(deps: Deps, slack: LocalSlack) -> None:
    seed(deps, providers={"P1": LA, "P2": LA})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3)
    run(deps)
    with deps.session_factory() as s:
        nudge_id = s.scalar(select(m.Nudge.id).where(m.Nudge.recipient_id == "P1"))
    assert nudge_id is not None
    with pytest.raises(InvalidInput):
        svc.mark_review_held(deps, "UP1", nudge_id, TODAY + timedelta(days=1))
    with pytest.raises(NotAllowed):
        svc.mark_review_held(deps, "UP2", nudge_id, TODAY)
    assert svc.mark_review_held(deps, "UM1", nudge_id, TODAY).already is False  # a manager may


def choose(menu: dict[str, Any], value_prefix: str) -> dict[str, Any]:
    option = next(o for o in menu["options"] if o["value"].startswith(value_prefix))
    return {**menu, "selected_option": option}


def test_write_the_note_opens_the_soap_form(deps: Deps, slack: LocalSlack) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1")
        session(s, "S1", timedelta(days=3))
    run(deps)
    [dm] = dms(slack)["DUP1"]
    _, menu = element(dm, NudgeIds.NOTE_MENU)
    ack = Recorder()
    body = {"user": {"id": "UP1"}, "trigger_id": "T1", "message": dm}
    listeners.handle_nudge_note_menu_action(
        ack=ack,
        body=body,
        action=choose(menu, "write:"),
        respond=Recorder(),
        context={"deps": deps},
    )
    [opened] = slack.calls_to("views.open")
    assert opened.params["trigger_id"] == "T1"
    assert opened.params["view"]["callback_id"] == "soap_note"
    with deps.session_factory() as s:  # opening the form changes nothing by itself
        assert s.scalars(select(m.TherapySession)).one().note_done_at is None
    # A reminder sent before the menu existed: its button opens the same form.
    listeners.handle_nudge_note_written_action(
        ack=Recorder(),
        body=body,
        action={"value": menu["options"][0]["value"].split(":")[1]},
        context={"deps": deps},
    )
    assert len(slack.calls_to("views.open")) == 2


def test_a_cancelled_session_needs_no_note_and_is_marked_once(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1")
        session(s, "S1", timedelta(days=3))
    run(deps)
    [dm] = dms(slack)["DUP1"]
    _, menu = element(dm, NudgeIds.NOTE_MENU)
    # The menu asks who cancelled, as every button that marks a session cancelled does.
    labels = [o["text"]["text"] for o in menu["options"]]
    assert labels == [
        "Write the note",
        "Cancelled by me",
        "Cancelled by the school",
        "Student absent",
        "It was a no-show",
    ]
    by_school = choose(menu, "cancelled:school:")
    respond = press(deps, listeners.handle_nudge_note_menu_action, dm, by_school)
    assert "Session marked cancelled by the school: no note needed." in json.dumps(
        respond.calls[0]["blocks"]
    )
    again = press(deps, listeners.handle_nudge_note_menu_action, dm, by_school)
    assert "already marked cancelled by the school" in json.dumps(again.calls[0]["blocks"])
    with pytest.raises(NotAllowed):
        press(deps, listeners.handle_nudge_note_menu_action, dm, choose(menu, "no_show:"), "UP2")
    with deps.session_factory() as s:
        row = s.scalars(select(m.TherapySession)).one()
        assert (row.status, row.cancel_reason) == ("cancelled", "school")
    # Changing one's mind to "by me" records the provider (and so a make-up is owed).
    press(deps, listeners.handle_nudge_note_menu_action, dm, choose(menu, "cancelled:provider:"))
    with deps.session_factory() as s:
        row = s.scalars(select(m.TherapySession)).one()
        assert (row.status, row.cancel_reason) == ("cancelled", "provider")
    # Tomorrow there is nothing left to remind about.
    slack.clear()
    clock.advance(days=1)
    run(deps)
    assert dms(slack) == {}


def test_a_forged_note_menu_value_is_a_plain_error(deps: Deps) -> None:
    # A bare "cancelled:<id>" (a reminder sent before the menu asked who cancelled) is out of
    # date rather than guessed to be the provider's; so is an unknown or bot-only reason.
    for value in (
        "write:0", "delete:5", "cancelled:abc", "", "write:99999999999", "cancelled:5",
        "cancelled:provider_out:5", "cancelled:school:x", "no_show:school:5",
    ):  # fmt: skip
        with pytest.raises(InvalidInput):
            listeners.NoteMenuAction.of({"selected_option": {"value": value}})
    parsed = listeners.NoteMenuAction.of(
        {"selected_option": {"value": "cancelled:student_absent:7"}}
    )
    assert (parsed.choice, parsed.reason, parsed.session_id) == ("cancelled", "student_absent", 7)


def test_snooze_brings_the_same_items_back_at_the_next_days_window_once(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps, providers={"P1": AK})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=10)
        student(s, "S2", triennial_in=40)
    run(deps)
    [dm] = dms(slack)["DUP1"]
    _, button = element(dm, NudgeIds.SNOOZE)
    respond = press(deps, listeners.handle_nudge_snooze_action, dm, button)
    assert "Snoozed. I'll bring 2 items back Tue Dec 1 at 8 AM" in json.dumps(
        respond.calls[0]["blocks"]
    )
    assert NudgeIds.SNOOZE not in json.dumps(respond.calls[0]["blocks"])
    again = press(deps, listeners.handle_nudge_snooze_action, dm, button)
    assert "Already snoozed" in json.dumps(again.calls[0]["blocks"])
    assert {n.send_after for n in pending(deps)} == {datetime(2026, 12, 1, 17, tzinfo=UTC)}
    assert len(pending(deps)) == 2

    slack.clear()
    clock.advance(hours=23, minutes=59)  # Tuesday 07:59 in Alaska: not yet
    run(deps)
    assert dms(slack) == {}
    clock.advance(minutes=1)
    run(deps)
    [back] = dms(slack)["DUP1"]
    assert "in 9 days" in blob(back) and "in 39 days" in blob(back)
    slack.clear()
    run(deps)
    assert dms(slack) == {}


def test_buttons_on_someone_elses_reminder_are_refused(deps: Deps, slack: LocalSlack) -> None:
    seed(deps, providers={"P1": LA, "P2": LA})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=10)
    run(deps)
    [dm] = dms(slack)["DUP1"]
    _, button = element(dm, NudgeIds.SNOOZE)
    with pytest.raises(NotAllowed) as other:
        press(deps, listeners.handle_nudge_snooze_action, dm, button, user="UP2")
    # A reminder id that does not exist gets the same answer: ids can't be probed.
    with pytest.raises(NotAllowed) as missing:
        svc.snooze(deps, "UP2", "no-such-batch")
    assert missing.value.message == other.value.message


def test_a_stale_button_payload_is_a_plain_error(deps: Deps) -> None:
    with pytest.raises(InvalidInput):
        listeners.ReviewHeldAction.of({"block_id": "nudge_review:x", "selected_date": "2026-1"})
    with pytest.raises(InvalidInput):
        listeners.NoteWrittenAction.of({"value": "abc"})


# --- the demo roster -----------------------------------------------------------------------


def test_the_demo_roster_on_its_anchor_monday(demo_deps: Deps, slack: LocalSlack) -> None:
    report = run(demo_deps)
    sent = dms(slack)
    assert report.delivery.error is None
    assert all(len(v) == 1 for v in sent.values())  # one DM per person
    providers = set(sent)
    assert not {"DU0DEMOM01", "DU0DEMOM02", "DU0DEMOM03"} & providers  # digest is weekly
    # Every provider with a stage due, an overdue note or an expiring licence hears, once.
    assert {"DU0DEMOP03", "DU0DEMOP04", "DU0DEMOP05"} <= providers
    assert "Your *AZ* licence" in blob(sent["DU0DEMOP04"][0])  # P04's AZ licence lapses soon
    for params in sent.values():
        text = json.dumps(params)
        assert "Zeller" not in text and "diagnos" not in text.lower()
    assert run(demo_deps).delivery.messages == 0

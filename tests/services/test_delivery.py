"""Services: delivery through the Notifier port, with the in-memory fake (Slack is not the point).

Covers what a failed send leaves behind: a permanent refusal stops the retries for good; an
ambiguous failure (a timeout, a process killed between the post and marking it sent) is
settled from the DM's history before anything is posted again; a certain failure is retried.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services import nudges as svc
from bot.services.ports import DeliveryFailed, RecipientUnreachable, Sent
from bot.slack_gateway import SlackGateway, make_web_client
from devtools.local_slack import LocalSlack
from storage import models as m
from tests.services.fake_notifier import FakeNotifier
from tests.services.test_nudges import seed, session, student

NOW = datetime(2026, 11, 30, 17, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def fdeps(deps: Deps, fake: FakeNotifier) -> Deps:
    """Two providers with a review due in 3 days each, P1 in Pacific, P2 in Eastern."""
    deps = replace(deps, notifier_override=fake)
    seed(deps, providers={"P1": "America/Los_Angeles", "P2": "America/New_York"})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3, provider="P1")
        student(s, "S2", annual_in=3, provider="P2")
    svc.sweep_annual_reviews(deps)
    return deps


def rows(deps: Deps) -> dict[str, tuple[bool, str | None, str | None]]:
    """recipient -> (sent, batch id, last error)."""
    with deps.session_factory() as s:
        return {
            n.recipient_id: (n.sent_at is not None, n.batch_id, n.last_error)
            for n in s.scalars(select(m.Nudge).where(m.Nudge.recipient_kind == "provider"))
        }


def test_services_hand_the_notifier_typed_messages_tagged_with_their_batch(
    fdeps: Deps, fake: FakeNotifier
) -> None:
    report = svc.deliver(fdeps)
    assert report.messages == 2
    [(user, message, key)] = [x for x in fake.sent if x[0] == "UP1"]
    assert isinstance(message, svc.NudgeMessage)
    assert [line.student for line in message.deadlines] == ["M.Z. (S1)"]
    assert message.deadlines[0].due_on == date(2026, 12, 3)
    assert key == message.batch_id == rows(fdeps)["P1"][1]
    assert fake.history_checks == 0  # nothing was ever in doubt


def test_a_permanent_refusal_drops_that_persons_rows_and_never_retries(
    fdeps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    fake.fail_next(RecipientUnreachable("account_inactive"))
    report = svc.deliver(fdeps)
    assert (report.messages, report.unreachable, report.failed, report.error) == (1, 1, 0, None)
    p1 = rows(fdeps)["P1"]
    assert (p1[0], p1[2]) == (False, "unreachable:account_inactive")
    clock.advance(minutes=30)
    assert svc.deliver(fdeps).messages == 0
    assert [u for u, _, _ in fake.sent] == ["UP2"]


def test_a_timeout_slack_took_is_found_in_history_and_not_posted_again(
    fdeps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    fake.taken_anyway = True
    fake.fail_next(DeliveryFailed("chat.postMessage failed: TimeoutError", uncertain=True))
    first = svc.deliver(fdeps)
    assert (first.messages, first.failed) == (1, 1)
    sent, batch, error = rows(fdeps)["P1"]
    assert not sent and batch is not None and "TimeoutError" in (error or "")

    clock.advance(minutes=1)
    again = svc.deliver(fdeps)
    assert (again.messages, again.items) == (0, 1)  # marked sent from the history
    assert fake.history_checks == 1
    assert [u for u, _, _ in fake.sent].count("UP1") == 1
    assert rows(fdeps)["P1"] == (True, batch, None)
    # The Snooze button of the DM Slack took still finds its rows.
    snoozed = svc.snooze(fdeps, "UP1", batch)
    assert (snoozed.items, snoozed.already) == (1, False)


def test_a_timeout_slack_did_not_take_is_posted_again_once(
    fdeps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    fake.fail_next(DeliveryFailed("chat.postMessage failed: TimeoutError", uncertain=True))
    svc.deliver(fdeps)
    clock.advance(minutes=1)
    assert svc.deliver(fdeps).messages == 1
    assert fake.history_checks == 1
    assert [u for u, _, _ in fake.sent].count("UP1") == 1
    assert rows(fdeps)["P1"][0]


def test_a_certain_failure_forgets_its_batch_and_retries_without_looking(
    fdeps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    fake.fail_next(DeliveryFailed("chat.postMessage failed: 429 ratelimited"))
    svc.deliver(fdeps)
    assert rows(fdeps)["P1"][:2] == (False, None)
    clock.advance(minutes=1)
    assert svc.deliver(fdeps).messages == 1
    assert fake.history_checks == 0


class Killed(BaseException):
    """The process dies right after Slack took the DM, before it is marked sent."""


class DyingNotifier(FakeNotifier):
    def send_dm(self, user_id: str, message: object, *, key: str | None = None) -> Sent:
        super().send_dm(user_id, message, key=key)
        raise Killed


def test_a_process_killed_after_posting_leaves_a_dm_that_is_never_sent_twice(
    fdeps: Deps, clock: FixedClock
) -> None:
    dying = DyingNotifier()
    with pytest.raises(Killed):
        svc.deliver(replace(fdeps, notifier_override=dying), worker="dead")
    assert not rows(fdeps)["P1"][0]

    survivor = FakeNotifier(sent=list(dying.sent))  # the same Slack: it holds the DM
    deps = replace(fdeps, notifier_override=survivor)
    assert svc.deliver(deps, worker="next").messages == 0  # both leased to "dead"
    clock.advance(minutes=6)  # the dead worker's lease lapses
    report = svc.deliver(deps, worker="next")
    assert (report.messages, report.items) == (1, 2)  # P2 posted; P1 found in the history
    assert [u for u, _, _ in survivor.sent] == ["UP1", "UP2"]
    assert all(sent for sent, _, _ in rows(fdeps).values())


def test_reminders_wait_while_the_provider_is_on_time_off(
    deps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    """P1 is out Mon Nov 30 - Tue Dec 1, then Wed Dec 2 too (a second span): their daily
    note reminders wait, and come back once, on Thursday morning in their zone."""
    deps = replace(deps, notifier_override=fake)
    seed(deps, providers={"P1": "America/Los_Angeles", "P2": "America/Los_Angeles"})
    with deps.session_factory.begin() as s:
        student(s, "S1", provider="P1")
        student(s, "S2", provider="P2")
        session(s, "S1", timedelta(days=3), provider="P1")
        session(s, "S2", timedelta(days=3), provider="P2")
        for first, last in ((date(2026, 11, 30), date(2026, 12, 1)), (date(2026, 12, 2),) * 2):
            s.add(m.TimeOff(provider_id="P1", start_date=first, end_date=last, created_at=NOW))
    for _ in range(3):  # Mon, Tue, Wed at 09:00 Pacific
        report = svc.run_once(deps)
        assert report.delivery.held == 1  # P1's reminders wait; counted as held
        clock.advance(days=1)
    assert [u for u, _, _ in fake.sent] == ["UP2", "UP2", "UP2"]
    with deps.session_factory() as s:
        waiting = s.scalars(
            select(m.Nudge.send_after).where(
                m.Nudge.recipient_id == "P1", m.Nudge.sent_at.is_(None)
            )
        ).all()
    assert set(waiting) == {datetime(2026, 12, 3, 16, tzinfo=UTC)}  # Thu 08:00 Pacific
    clock.advance(hours=-1)  # Thursday 16:00Z: 08:00 Pacific
    svc.run_once(deps)
    assert [u for u, _, _ in fake.sent].count("UP1") == 1  # three days' reminders, one DM


def test_partial_day_time_off_holds_reminders_for_those_hours_only(
    deps: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    """P1 is out Mon Nov 30 9-11 Pacific only: at 09:00 the reminder waits until 11:00 that
    day, not until Tuesday, and goes out once."""
    deps = replace(deps, notifier_override=fake)
    seed(deps, providers={"P1": "America/Los_Angeles"})
    with deps.session_factory.begin() as s:
        student(s, "S1", provider="P1")
        session(s, "S1", timedelta(days=3), provider="P1")
        s.add(
            m.TimeOff(
                provider_id="P1",
                start_date=date(2026, 11, 30),
                end_date=date(2026, 11, 30),
                start_minute=9 * 60,
                end_minute=11 * 60,
                timezone="America/Los_Angeles",
                created_at=NOW,
            )
        )
    report = svc.run_once(deps)  # Mon 09:00 Pacific
    assert report.delivery.held == 1 and fake.sent == []
    with deps.session_factory() as s:
        waiting = set(s.scalars(select(m.Nudge.send_after).where(m.Nudge.sent_at.is_(None))))
    assert waiting == {datetime(2026, 11, 30, 19, tzinfo=UTC)}  # Mon 11:00 Pacific
    clock.advance(hours=2)
    svc.run_once(deps)
    assert [u for u, _, _ in fake.sent] == ["UP1"]


# --- through the Slack gateway and the fake Slack Web API -----------------------------------


def test_a_dm_slack_took_before_the_client_timed_out_is_not_posted_twice(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    client = make_web_client(deps.settings.slack_bot_token, slack.api_url, retries=0, timeout=1)
    deps = replace(deps, gateway=SlackGateway(client))
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3)
    svc.sweep_annual_reviews(deps)
    slack.hang_next("chat.postMessage", 2.5)  # Slack takes it, the answer comes too late
    first = svc.deliver(deps)
    assert (first.messages, first.failed) == (0, 1)
    [taken] = slack.history("DUP1")
    batch = rows(deps)["P1"][1]
    assert taken["metadata"] == {"event_type": "caseload_outbox", "event_payload": {"key": batch}}

    clock.advance(minutes=1)
    again = svc.deliver(deps)
    assert (again.messages, again.items) == (0, 1)
    assert len(slack.history("DUP1")) == 1  # not posted again
    [looked] = slack.calls_to("conversations.history")
    assert looked.params["channel"] == "DUP1" and looked.params["include_all_metadata"]
    assert rows(deps)["P1"] == (True, batch, None)


def test_slack_refusing_a_person_for_good_stops_the_retries(
    deps: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    seed(deps)
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3)
    svc.sweep_annual_reviews(deps)
    slack.fail_next("conversations.open", 200, error="user_not_found")
    report = svc.deliver(deps)
    assert (report.unreachable, report.failed, report.error) == (1, 0, None)
    assert rows(deps)["P1"][2] == "unreachable:user_not_found"
    clock.advance(hours=1)
    assert svc.deliver(deps).messages == 0
    assert slack.calls_to("chat.postMessage") == []

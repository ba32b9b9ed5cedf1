"""End to end: the production server answers health checks, rejects forged or stale requests,
and carries /availability from a signed slash command to a saved schedule."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from devtools.local_slack import LocalSlack
from devtools.slack_requests import (
    block_actions_body,
    event_body,
    im_message_event,
    sign_request,
    slash_command_body,
)
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import SECRET, Server
from tests.storage.roster_files import write_roster

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow


def load_roster(db: Engine, tmp_path: Path) -> None:
    assert import_roster(write_roster(tmp_path / "roster"), make_session_factory(db)).ok


def slash(fake: LocalSlack, text: str, user: str = "U0P1", command: str = "/availability") -> str:
    return slash_command_body(
        command=command,
        text=text,
        user_id=user,
        response_url=fake.response_url(f"r{time.monotonic_ns()}"),
    )


def press(
    fake: LocalSlack,
    user: str,
    action_id: str,
    value: str,
    *,
    message_ts: str = "1.1",
    ephemeral: bool = True,
) -> str:
    return block_actions_body(
        user_id=user,
        action={
            "action_id": action_id,
            "block_id": "availability_actions",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "x"},
        },
        response_url=fake.response_url(f"a{time.monotonic_ns()}"),
        container={
            "type": "message",
            "message_ts": message_ts,
            "channel_id": "D" + user,
            "is_ephemeral": ephemeral,
        },
    )


def button_value(call_params: dict, action_id: str) -> str:
    for block in call_params.get("blocks") or []:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if el.get("action_id") == action_id:
                return str(el["value"])
    raise AssertionError(f"no {action_id} button in {call_params}")


def test_healthz_answers_when_the_database_answers(server: Server) -> None:
    assert server.get("/healthz") == (200, "ok\n")
    assert server.get("/nope")[0] == 404


def test_unsigned_wrong_and_stale_requests_get_401_and_change_nothing(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    body = slash(fake, "Tue 8-11 PT")
    assert server.post(body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    wrong = sign_request("not-the-secret", body)
    assert server.post(body, wrong)[0] == 401
    stale = sign_request(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    assert server.post(body, stale)[0] == 401
    tampered = sign_request(SECRET, body)
    assert server.post(body.replace("Tue", "Wed"), tampered)[0] == 401
    time.sleep(0.3)
    assert fake.calls_to("response_url") == []
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0


def test_ssl_check_body_trick_is_refused(server: Server, fake: LocalSlack) -> None:
    # Older Bolt answered ssl_check=1 without checking the signature; it must not run anything.
    body = "ssl_check=1&" + slash(fake, "Tue 8-11 PT")
    assert server.post(body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    # Slack's own certificate check, signed, is answered and runs nothing either.
    assert server.signed("ssl_check=1&token=xyz")[0] == 200
    assert server.signed(body)[0] == 200
    time.sleep(0.3)
    assert fake.calls_to("response_url") == []


def test_oversized_body_is_refused(server: Server) -> None:
    body = "payload=" + "x" * (2 * 1024 * 1024)
    assert server.signed(body)[0] == 401


def test_availability_preview_save_and_show(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    status, _, seconds = server.signed(slash(fake, "Tue 9-12 PT"))
    assert status == 200 and seconds < 3
    preview = fake.wait_for("response_url")[0].params
    assert "Tue  09:00–12:00" in str(preview["blocks"])
    save = button_value(preview, "availability_save")

    fake.clear()
    assert server.signed(press(fake, "U0P1", "availability_save", save))[0] == 200
    saved = fake.wait_for("response_url")[0].params
    assert saved["replace_original"] is True
    assert "Availability saved" in str(saved["blocks"])
    # A double click (or Slack retrying the action) saves once.
    fake.clear()
    assert server.signed(press(fake, "U0P1", "availability_save", save))[0] == 200
    assert "Already saved" in str(fake.wait_for("response_url")[0].params["blocks"])
    with make_session_factory(db)() as s:
        audits = s.scalars(select(m.AuditLog).where(m.AuditLog.subject_id == "P1")).all()
        assert [a.action for a in audits] == ["availability.replace"]
        assert audits[0].actor == "provider:P1"

    fake.clear()
    server.signed(slash(fake, ""))
    shown = str(fake.wait_for("response_url")[0].params["blocks"])
    assert "Tue  09:00–12:00" in shown and "Pacific" in shown


def dm(server: Server, fake: LocalSlack, text: str, event_id: str) -> tuple[dict, str]:
    """Sends a DM; returns the bot's reply (a real message) and its ts."""
    fake.clear()
    event = im_message_event(user_id="U0P1", text=text)
    assert server.signed(event_body(event=event, event_id=event_id))[0] == 200
    call = fake.wait_for("chat.postMessage")[0]
    return call.params, str(call.response["ts"])


def test_dm_time_off_preview_is_a_real_message_that_save_updates_in_place(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    preview, ts = dm(server, fake, "out Dec 23 - Jan 2", "EvE2E1")
    assert preview["channel"] == "DU0P1" and "Dec 23" in str(preview["blocks"])
    fake.clear()
    save = button_value(preview, "availability_save")
    server.signed(press(fake, "U0P1", "availability_save", save, message_ts=ts, ephemeral=False))
    updated = fake.wait_for("chat.update")[0].params
    assert updated["ts"] == ts and updated["channel"] == "DU0P1"
    assert "Time off saved" in str(updated["blocks"])
    assert not fake.calls_to("response_url")
    with make_session_factory(db)() as s:
        off = s.scalars(select(m.TimeOff)).one()
        assert (off.provider_id, off.start_date.isoformat(), off.end_date.isoformat()) == (
            "P1",
            "2026-12-23",
            "2027-01-02",
        )


def test_retried_event_is_handled_once(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    body = event_body(
        event=im_message_event(user_id="U0P1", text="add Fri 1-4"), event_id="EvRETRY1"
    )
    assert server.signed(body)[0] == 200
    fake.wait_for("chat.postMessage")
    headers = {  # Slack signs each delivery afresh: a retry has its own timestamp
        **sign_request(SECRET, body, timestamp=int(time.time()) + 1),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert server.post(body, headers)[0] == 200
    time.sleep(0.5)
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_second_provider_cannot_edit_the_first(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    server.signed(slash(fake, "<@U0P1|ana> Tue 9-12", user="U0P2"))
    reply = fake.wait_for("response_url")[0].params
    assert reply["text"] == "You can only change your own availability."
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0
        windows = s.scalars(
            select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == "P1")
        ).all()
        assert [(w.day, w.start_minute, w.end_minute) for w in windows] == [(1, 480, 660)]


def test_unknown_user_is_told_to_ask_their_manager(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    server.signed(slash(fake, "Tue 8-11", user="U0STRANGER"))
    assert "ask your provider-success manager" in fake.wait_for("response_url")[0].params["text"]


def test_acknowledgements_go_out_while_slack_hangs(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    """Follow-ups are queued off the listener threads, so a response URL that does not answer
    cannot starve them: with every reply held, 80 commands at concurrency 20 are all acked, and
    once Slack answers again no reply is lost. How fast the acks are: ``bench/ack.py``."""
    from concurrent.futures import ThreadPoolExecutor

    load_roster(db, tmp_path)
    fake.hold_next("response_url", times=80)
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: server.signed(slash(fake, "Tue 8-11")), range(80)))
    assert [status for status, _, _ in results] == [200] * 80
    fake.release_held()
    fake.wait_for("response_url", count=80, timeout=30)  # and every reply still arrives


def test_cancel_time_off_in_a_dm_removes_it(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    preview, ts = dm(server, fake, "out Dec 7", "EvOFF1")
    save = button_value(preview, "availability_save")
    server.signed(press(fake, "U0P1", "availability_save", save, message_ts=ts, ephemeral=False))
    fake.wait_for("chat.update")
    preview, ts = dm(server, fake, "cancel time off Dec 7", "EvOFF2")
    assert "Cancel time off" in str(preview["blocks"])
    save = button_value(preview, "availability_save")
    fake.clear()
    server.signed(press(fake, "U0P1", "availability_save", save, message_ts=ts, ephemeral=False))
    assert "Time off cancelled" in str(fake.wait_for("chat.update")[0].params["blocks"])
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.TimeOff)) == 0


def test_out_friday_afternoon_saves_partial_time_off(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    preview, ts = dm(server, fake, "out Friday afternoon", "EvPART1")
    save = button_value(preview, "availability_save")
    server.signed(press(fake, "U0P1", "availability_save", save, message_ts=ts, ephemeral=False))
    fake.wait_for("chat.update")
    with make_session_factory(db)() as s:
        off = s.scalars(select(m.TimeOff)).one()
        assert (off.start_minute, off.end_minute, off.timezone) == (720, 960, "America/Los_Angeles")
        assert off.start_date == off.end_date and off.start_date.weekday() == 4


def test_change_tue_only_keeps_the_other_days(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    server.signed(slash(fake, "add Thu 1-4"))
    add = button_value(fake.wait_for("response_url")[0].params, "availability_save")
    fake.clear()
    server.signed(press(fake, "U0P1", "availability_save", add))
    fake.wait_for("response_url")
    fake.clear()
    server.signed(slash(fake, "Tue 9-12"))
    preview = fake.wait_for("response_url")[0].params
    assert "Thu hours will be removed" in str(preview["blocks"])
    only = button_value(preview, "availability_save_days")
    fake.clear()
    server.signed(press(fake, "U0P1", "availability_save_days", only))
    fake.wait_for("response_url")
    with make_session_factory(db)() as s:
        rows = s.scalars(
            select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == "P1")
        )
        assert sorted((r.day, r.start_minute, r.end_minute) for r in rows) == [
            (1, 540, 720),
            (3, 780, 960),
        ]

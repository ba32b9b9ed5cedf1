"""End to end through ``serve``: nothing happens for a request that is not verified (malformed
timestamps, malformed unsigned bodies), an exact replay is refused even by another web process,
and no log line carries a request body, at the most verbose log level."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, func, select

from devtools.harness import start_server, stop_server
from devtools.local_slack import LocalSlack
from devtools.slack_requests import sign_request, slash_command_body, view_submission_body
from storage import models as m
from storage.db import make_session_factory
from tests.end_to_end.conftest import SECRET, Server
from tests.end_to_end.test_caseload import load as load_soap_roster
from tests.end_to_end.test_serve import load_roster
from tests.support.app_driver import soap_values

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

NOTE = "Student disclosed something confidential about home 7Q3Z"


def raw_post(server: Server, body: bytes, headers: dict[str, str]) -> int:
    """POST exact bytes (urllib would insist on text)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def nothing_happened(fake: LocalSlack, db: Engine) -> None:
    time.sleep(0.5)
    assert fake.calls == []  # no Web API call, no response_url post, no DM
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0


@pytest.fixture(scope="module")
def debug_pair(
    database_url: str, e2e_slack: LocalSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two web processes on one database, logging at DEBUG, the most verbose README level."""
    tmp = tmp_path_factory.mktemp("debug-serve")
    first = start_server(database_url, e2e_slack.api_url, tmp, {"LOG_LEVEL": "DEBUG"})
    second = start_server(database_url, e2e_slack.api_url, tmp, {"LOG_LEVEL": "DEBUG"})
    yield first, second
    stop_server(first)
    stop_server(second)


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1e3", "", " ", "9" * 5000, "-1", "+{now}", "{now}.0", "{future}", "{stale}"],
)
def test_malformed_or_out_of_window_timestamps_get_401_and_cause_nothing(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path, timestamp: str
) -> None:
    load_roster(db, tmp_path)
    now = int(time.time())
    ts = timestamp.format(now=now, future=now + 400, stale=now - 400)
    # The body names a response_url and a user: a handler run on it would post and DM.
    body = slash_command_body(
        command="/availability",
        text="Tue 8-11 PT",
        user_id="U0P1",
        response_url=fake.response_url("forged"),
    )
    headers = sign_request(SECRET, body)
    headers["X-Slack-Request-Timestamp"] = ts
    for _ in range(3):
        assert raw_post(server, body.encode(), headers) == 401
    nothing_happened(fake, db)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"payload=%7Bbad", "application/x-www-form-urlencoded"),
        (b"payload=" + b"%5B" * 200_000, "application/x-www-form-urlencoded"),
        (b"[" * 200_000 + b"]" * 200_000, "application/json"),
        (b"command=%2Favailability&text=\xff\xfe\xfd", "application/x-www-form-urlencoded"),
        (b"\xc3\x28\xa0\xa1", "application/json"),
    ],
    ids=["bad-json-payload", "deep-payload", "deep-json", "invalid-utf8-form", "invalid-utf8"],
)
def test_malformed_unsigned_bodies_get_401_never_500(
    server: Server, fake: LocalSlack, db: Engine, body: bytes, content_type: str
) -> None:
    unsigned = {"Content-Type": content_type}
    stale = {**unsigned, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    assert raw_post(server, body, unsigned) == 401
    assert raw_post(server, body, stale) == 401
    nothing_happened(fake, db)


def test_signed_but_unreadable_body_is_a_400_not_a_500(server: Server, fake: LocalSlack) -> None:
    # Only the secret's holder can send one; it still gets an answer, not a traceback.
    body = b"payload=%7Bbad"
    headers = {
        **sign_request(SECRET, body.decode()),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert raw_post(server, body, headers) == 400


def test_an_exact_replay_is_refused_by_every_web_process(
    debug_pair: tuple[Server, Server], fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    first, second = debug_pair
    body = slash_command_body(
        command="/availability",
        text="Tue 8-11 PT",
        user_id="U0P1",
        response_url=fake.response_url("replayed"),
    )
    headers = sign_request(SECRET, body)
    assert first.post(body, headers)[0] == 200
    assert first.post(body, headers)[0] == 401
    assert second.post(body, headers)[0] == 401
    fake.wait_for("response_url")
    time.sleep(0.5)
    assert len(fake.calls_to("response_url")) == 1  # one preview, not three
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 1


def test_no_request_body_reaches_the_log(
    debug_pair: tuple[Server, Server], fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    session_id = load_soap_roster(db, tmp_path)
    server = debug_pair[0]
    view = {
        "id": "V1",
        "type": "modal",
        "callback_id": "soap_note",
        "private_metadata": "",
        "blocks": [],
    }
    note = view_submission_body(
        user_id="U0P1",
        view=view,
        state_values=soap_values(session=str(session_id), trials="8/10", subjective=NOTE),
    )
    refused_before = server.log().count("request.refused")
    # Signed with an old signing secret (as during a rotation), and with a clock 400 s behind.
    assert server.post(note, sign_request("the-previous-signing-secret", note))[0] == 401
    assert server.post(note, sign_request(SECRET, note, int(time.time()) - 400))[0] == 401
    # And once for real: the saved note's text must not be logged on the way either.
    assert server.signed(note)[0] == 200
    time.sleep(1)
    with make_session_factory(db)() as s:
        assert NOTE in json.dumps([n.subjective for n in s.scalars(select(m.SoapNote))])
    log = server.log()
    assert NOTE not in log and "7Q3Z" not in log
    assert "payload" not in log.lower()
    refusals = [line for line in log.splitlines() if "request.refused" in line]
    assert len(refusals) == refused_before + 2
    assert all(len(line) < 160 for line in refusals), refusals


def test_two_worker_processes_share_the_port_and_stop_together(
    database_url: str, e2e_slack: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load_roster(db, tmp_path)
    srv = start_server(database_url, e2e_slack.api_url, tmp_path, {"WEB_WORKERS": "2"})
    try:
        deadline = time.monotonic() + 30
        while srv.log().count("serve.worker_ready") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(srv.get("/healthz")[0] == 200 for _ in range(10))
        body = slash_command_body(
            command="/availability", text="", user_id="U0P1", response_url="http://x.invalid/"
        )
        assert srv.signed(body)[0] == 200
    finally:
        stop_server(srv)
    assert srv.process.returncode == 0
    assert srv.log().count("serve.worker_ready") == 2


def test_hanging_views_open_does_not_stall_other_peoples_commands(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    """40 /soap commands whose views.open hangs 6 s (more than the old listener pool's 32
    threads): every ack is immediate, one person's requests take one work thread, the modal
    calls give up after 3 s, and another provider's /caseload is answered meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    load_soap_roster(db, tmp_path)
    fake.hang_next("views.open", 6, times=40)

    def soap(i: int) -> tuple[int, str, float]:
        body = slash_command_body(
            command="/soap", text="", user_id="U0P1", response_url=fake.response_url(f"s{i}")
        )
        return server.signed(body)

    with ThreadPoolExecutor(20) as pool:
        acks = list(pool.map(soap, range(40)))
    assert all(status == 200 and seconds < 1.5 for status, _, seconds in acks)
    start = time.monotonic()
    body = slash_command_body(
        command="/caseload", text="", user_id="U0P2", response_url=fake.response_url("other")
    )
    status, _, seconds = server.signed(body)
    assert status == 200 and seconds < 1.5
    deadline = time.monotonic() + 5
    while not any(c.response_key == "other" for c in fake.calls_to("response_url")):
        assert time.monotonic() < deadline, "the other provider's /caseload was not answered"
        time.sleep(0.05)
    # Let the rest of the queued /soap requests finish quickly before the next test (another
    # module's, on this worker): with the hangs cleared, each of the 40 calls views.open once
    # more at least; wait for those, then for a second with no call at all.
    opened = len(fake.calls_to("views.open"))
    fake.clear()
    while len(fake.calls_to("views.open")) < 40 - opened and time.monotonic() - start < 20:
        time.sleep(0.05)
    quiet_since = time.monotonic()
    seen = 0
    while time.monotonic() - quiet_since < 1 and time.monotonic() - start < 20:
        time.sleep(0.1)
        if len(fake.calls) != seen:
            seen, quiet_since = len(fake.calls), time.monotonic()

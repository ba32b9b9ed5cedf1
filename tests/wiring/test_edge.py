"""Wiring: the door's signature rules, the error handler's silence about unverified requests,
and the log policy for library records and exceptions."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time

import pytest
from slack_bolt.request import BoltRequest

from bot.app import create_app, create_door
from bot.deps import Deps
from bot.edge import refusal_reason
from bot.logs import KeyValueFormatter, LibraryRecords
from devtools.local_slack import LocalSlack
from devtools.slack_requests import sign_request, slash_command_body

SECRET = b"s3cret"
NOW = 1_800_000_000.0
BODY = b"command=%2Favailability&text=Tue"


def signed(ts: str, body: bytes = BODY, secret: bytes = SECRET) -> str:
    mac = hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return "v0=" + mac


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (str(int(NOW)), signed(str(int(NOW))), None),
        (str(int(NOW) - 299), signed(str(int(NOW) - 299)), None),
        (None, signed(str(int(NOW))), "unsigned"),
        (str(int(NOW)), None, "unsigned"),
        ("", "", "unsigned"),
        ("abc", signed("abc"), "bad_timestamp"),
        ("1e3", signed("1e3"), "bad_timestamp"),
        ("9" * 5000, "v0=" + "0" * 64, "bad_timestamp"),
        ("١٢٣", "v0=" + "0" * 64, "bad_timestamp"),  # non-ASCII digits int() would accept
        (f" {int(NOW)}", signed(f" {int(NOW)}"), "bad_timestamp"),
        (str(int(NOW) - 301), signed(str(int(NOW) - 301)), "stale_timestamp"),
        (str(int(NOW) + 301), signed(str(int(NOW) + 301)), "stale_timestamp"),
        (str(int(NOW)), signed(str(int(NOW)), secret=b"old"), "bad_signature"),
        (str(int(NOW)), signed(str(int(NOW))).upper(), "bad_signature"),
        (str(int(NOW)), "v1=" + "0" * 64, "bad_signature"),
    ],
)
def test_refusal_reasons(timestamp: str | None, signature: str | None, reason: str | None) -> None:
    assert refusal_reason(SECRET, BODY, timestamp, signature, NOW) == reason


def test_tampered_body_is_refused() -> None:
    ts = str(int(NOW))
    assert refusal_reason(SECRET, BODY + b"x", ts, signed(ts), NOW) == "bad_signature"


def test_error_handler_contacts_nobody_about_an_unverified_request(
    deps: Deps, slack: LocalSlack
) -> None:
    """A non-numeric timestamp makes slack_sdk's verifier raise inside Bolt; the app's error
    handler must not answer the forged body's response_url or DM the user it names."""
    app = create_app(deps.settings, deps, process_before_response=True)
    body = slash_command_body(
        command="/availability",
        text="Tue 8-11",
        user_id="U0VICTIM",
        response_url=slack.response_url("forged"),
    )
    headers = sign_request(deps.settings.slack_signing_secret or "", body)
    headers["X-Slack-Request-Timestamp"] = "abc"
    response = app.dispatch(BoltRequest(body=body, headers=dict(headers.items())))
    assert response.status == 401
    assert slack.calls == []


def test_the_door_and_the_work_pools_share_one_gate(deps: Deps, slack: LocalSlack) -> None:
    """Work the door acknowledged waits to start while the door is answering requests."""
    door = create_door(deps.settings, deps)
    body = slash_command_body(
        command="/availability", text="help", user_id="U0GATE", response_url=slack.response_url("g")
    ).encode()
    ts = int(deps.clock.now().timestamp())
    env: dict[str, object] = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for key, value in sign_request(
        deps.settings.slack_signing_secret or "", body.decode(), ts
    ).items():
        env["HTTP_" + key.upper().replace("-", "_")] = value
    status: list[str] = []
    with door.acks.acknowledging():  # another request is being answered
        b"".join(door(env, lambda s, headers: status.append(s)))
        assert status == ["200 OK"]
        time.sleep(0.05)
        # acknowledged, and its work (the reply to the response_url) held back
        assert not [c for c in slack.calls if c.method == "response_url"]
    assert slack.wait_for("response_url", timeout=5)


def _emit(name: str, level: int, message: str, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(KeyValueFormatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(LibraryRecords())
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    old, logger.propagate = logger.level, False
    logger.setLevel(logging.DEBUG)
    try:
        if exc is not None:
            try:
                raise exc
            except BaseException:
                logger.log(level, message, exc_info=True)
        else:
            logger.log(level, message)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(old)
    return stream.getvalue()


def test_library_records_below_warning_are_dropped() -> None:
    body = "Invalid request signature detected (body: text=my+secret+note)"
    assert _emit("slack_bolt.RequestVerification", logging.INFO, body) == ""
    assert _emit("sqlalchemy.engine.Engine", logging.INFO, "[params] ('note',)") == ""
    assert _emit("slack_sdk.web.base_client", logging.DEBUG, "body_params: {'text': 'x'}") == ""


def test_library_warnings_keep_only_their_first_words() -> None:
    out = _emit("caseload-bot", logging.WARNING, "Unhandled request ({'value': 'my note'})")
    assert out == "WARNING caseload-bot Unhandled request\n"
    out = _emit("slack_bolt.App", logging.WARNING, "A global middleware (x) skipped (body)")
    assert "body" not in out and out.startswith("WARNING slack_bolt.App A global middleware")


def test_own_records_pass_and_exceptions_lose_their_messages() -> None:
    out = _emit("bot.app", logging.INFO, "request.refused")
    assert out == "INFO bot.app request.refused\n"
    out = _emit("bot.app", logging.ERROR, "unexpected_error", ValueError("note text 7Q3Z"))
    assert "Traceback" in out and "builtins.ValueError" in out and "7Q3Z" not in out
    out = _emit("slack_bolt.App", logging.ERROR, "Failed (error: 7Q3Z)", KeyError("7Q3Z"))
    assert "7Q3Z" not in out and "builtins.KeyError" in out


def test_opening_a_modal_gives_up_after_three_seconds(deps: Deps, slack: LocalSlack) -> None:
    import time

    from bot.slack_gateway import SlackUnavailable

    slack.hang_next("views.open", 8)
    start = time.monotonic()
    with pytest.raises(SlackUnavailable):
        deps.gateway.open_view("T1", {"type": "modal", "title": {}, "blocks": []})
    assert time.monotonic() - start < 5

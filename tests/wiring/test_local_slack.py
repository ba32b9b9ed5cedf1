"""Wiring tests: the local Slack fake answers slack_sdk and Bolt as Slack does, and records it."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.request import urlopen

import pytest
from slack_bolt import Ack, App, Respond, Say
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from devtools.blocks_text import action_payload, render_message
from devtools.local_slack import LocalSlack
from devtools.slack_requests import (
    app_home_opened_event,
    block_actions_body,
    dispatch_signed,
    event_body,
    im_message_event,
    sign_request,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ls() -> Iterator[LocalSlack]:
    with LocalSlack() as fake:
        yield fake


@pytest.fixture
def client(ls: LocalSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=ls.api_url)


def make_app(ls: LocalSlack) -> App:
    return App(
        signing_secret=SECRET,
        token_verification_enabled=False,
        client=WebClient(base_url=ls.api_url, token="xoxb-x"),
    )


def dispatch(app: App, body: str) -> tuple[int, str]:
    response = dispatch_signed(app, SECRET, body)
    return response.status, response.body


# ---- addresses and lifecycle ----------------------------------------------------------------


def test_urls_point_at_the_bound_loopback_port(ls: LocalSlack) -> None:
    assert ls.port > 0
    assert ls.api_url == f"http://127.0.0.1:{ls.port}/api/"
    assert ls.response_url("abc") == f"http://127.0.0.1:{ls.port}/response/abc"


def test_stop_releases_the_port_and_is_idempotent() -> None:
    fake = LocalSlack().start()
    url = fake.api_url
    fake.stop()
    fake.stop()
    with pytest.raises(OSError):
        urlopen(url + "auth.test", data=b"", timeout=1)


# ---- Web API methods through slack_sdk --------------------------------------------------------


def test_auth_test_names_the_bot_and_records_the_bearer_token(
    ls: LocalSlack, client: WebClient
) -> None:
    response = client.auth_test()

    assert (response["user_id"], response["bot_id"], response["team_id"]) == (
        "UBOT",
        "BBOT",
        "T0LOCAL",
    )
    (call,) = ls.calls
    assert (call.method, call.token, call.path, call.status) == (
        "auth.test",
        "xoxb-test",
        "/api/auth.test",
        200,
    )


def test_post_message_answers_channel_increasing_ts_and_message(
    ls: LocalSlack, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Saved*"}}]

    first = client.chat_postMessage(channel="C0CASES", text="Saved", blocks=blocks)
    second = client.chat_postMessage(channel="C0CASES", text="Again", thread_ts=first["ts"])

    assert first["channel"] == "C0CASES"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"] == blocks
    assert first["message"]["bot_id"] == "BBOT"
    assert second["message"]["thread_ts"] == first["ts"]
    recorded = ls.calls_to("chat.postMessage")
    assert recorded[0].params == {"channel": "C0CASES", "text": "Saved", "blocks": blocks}
    assert recorded[1].params["thread_ts"] == first["ts"]


def test_post_message_to_a_user_lands_in_the_dm_conversations_open_names(
    client: WebClient,
) -> None:
    opened = client.conversations_open(users="U0ALICE")
    posted = client.chat_postMessage(channel="U0ALICE", text="hello")

    assert opened["channel"]["id"] == "DU0ALICE"
    assert posted["channel"] == "DU0ALICE"


def test_post_message_without_text_or_blocks_fails_like_slack(client: WebClient) -> None:
    # slack_sdk itself warns before sending a message without top-level text.
    with pytest.warns(UserWarning, match="text"), pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1")
    assert raised.value.response["error"] == "no_text"


def test_ephemeral_update_and_delete(ls: LocalSlack, client: WebClient) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="only you")
    posted = client.chat_postMessage(channel="C1", text="draft")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="final")
    deleted = client.chat_delete(channel="C1", ts=posted["ts"])

    assert ephemeral["message_ts"]
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", posted["ts"], "final")
    assert updated["message"]["text"] == "final"
    assert (deleted["channel"], deleted["ts"]) == ("C1", posted["ts"])
    assert [c.method for c in ls.calls] == [
        "chat.postEphemeral",
        "chat.postMessage",
        "chat.update",
        "chat.delete",
    ]
    assert ls.calls_to("chat.postEphemeral")[0].params["user"] == "U0ALICE"
    # chat.delete goes form-encoded, the chat.post*/update methods as JSON: both are parsed.
    assert ls.calls_to("chat.delete")[0].params == {"channel": "C1", "ts": posted["ts"]}


MODAL = {
    "type": "modal",
    "callback_id": "avail_modal",
    "title": {"type": "plain_text", "text": "Availability"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [],
}


def test_views_open_push_update_and_publish(ls: LocalSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id="123.456.abc", view=MODAL)
    view_id = opened["view"]["id"]
    pushed = client.views_push(trigger_id="123.456.def", view=MODAL)
    updated = client.views_update(view_id=view_id, view={**MODAL, "private_metadata": "p1"})
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    published = client.views_publish(user_id="U0ALICE", view=home)
    republished = client.views_publish(user_id="U0ALICE", view=home)

    assert view_id.startswith("V")
    assert opened["view"]["callback_id"] == "avail_modal"
    assert opened["view"]["state"] == {"values": {}}
    assert pushed["view"]["id"] not in (view_id, None)
    assert updated["view"]["id"] == view_id
    assert updated["view"]["private_metadata"] == "p1"
    assert published["view"]["type"] == "home"
    assert republished["view"]["id"] == published["view"]["id"]  # one Home per user
    assert ls.view(view_id)["private_metadata"] == "p1"
    assert ls.calls_to("views.open")[0].params["view"] == MODAL
    assert ls.calls_to("views.update")[0].params["view_id"] == view_id


def test_views_open_without_trigger_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="", view=MODAL)
    assert raised.value.response["error"] == "invalid_arguments"


def test_users_info_serves_default_zone_unless_users_says_otherwise(
    ls: LocalSlack, client: WebClient
) -> None:
    ls.users["U0AK"] = {"tz": "America/Anchorage", "real_name": "Ada K"}

    default = client.users_info(user="U0ALICE")["user"]
    alaska = client.users_info(user="U0AK")["user"]

    assert (default["id"], default["tz"], default["is_bot"]) == (
        "U0ALICE",
        "America/Los_Angeles",
        False,
    )
    assert default["tz_offset"] in (-8 * 3600, -7 * 3600)
    assert (alaska["tz"], alaska["real_name"]) == ("America/Anchorage", "Ada K")
    assert alaska["tz_offset"] in (-9 * 3600, -8 * 3600)
    # users.info goes as form fields; slack_sdk still POSTs despite http_verb="GET".
    assert ls.calls_to("users.info")[0].params == {"user": "U0ALICE"}


def test_files_upload_v2_runs_all_three_steps(ls: LocalSlack, client: WebClient) -> None:
    response = client.files_upload_v2(channel="C0CASES", content="a,b\n", filename="x.csv")

    assert response["file"]["name"] == "x.csv"
    assert response["file"]["size"] == 4
    assert [c.method for c in ls.calls] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    url_call, upload_call, complete_call = ls.calls
    assert url_call.params == {"filename": "x.csv", "length": "4"}
    assert upload_call.params["content"] == b"a,b\n"
    assert upload_call.path == f"/upload/{response['file']['id']}"
    assert complete_call.params["channel_id"] == "C0CASES"
    assert complete_call.params["files"] == [{"id": response["file"]["id"], "title": "x.csv"}]
    assert complete_call.params["content"] == b"a,b\n"
    with urlopen(response["file"]["url_private"], timeout=2) as download:
        assert download.read() == b"a,b\n"


def test_complete_upload_of_an_unknown_file_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}])
    assert raised.value.response["error"] == "file_not_found"


def test_other_methods_answer_ok_and_are_recorded(ls: LocalSlack, client: WebClient) -> None:
    response = client.reactions_add(channel="C1", timestamp="1.2", name="white_check_mark")

    assert response.data == {"ok": True}
    assert ls.calls_to("reactions.add")[0].params["name"] == "white_check_mark"


def test_form_bodies_decode_json_string_fields_and_form_tokens(ls: LocalSlack) -> None:
    blocks = [{"type": "divider"}]
    tokenless = WebClient(base_url=ls.api_url)

    tokenless.api_call(
        "chat.postMessage",
        params={"token": "xoxb-form", "channel": "C1", "text": "x", "blocks": json.dumps(blocks)},
    )

    (call,) = ls.calls
    assert call.token == "xoxb-form"
    assert call.params == {"channel": "C1", "text": "x", "blocks": blocks}


def test_multipart_bodies_are_parsed(ls: LocalSlack, client: WebClient) -> None:
    client.api_call("files.upload", files={"file": b"a,b\n"}, data={"channels": "C1"})

    (call,) = ls.calls
    assert call.params == {"channels": "C1", "file": b"a,b\n"}


def test_calls_without_a_token_are_refused(ls: LocalSlack) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=ls.api_url).auth_test()
    assert raised.value.response["error"] == "not_authed"
    assert ls.calls[0].token is None


# ---- fault injection ------------------------------------------------------------------------


def test_rate_limit_is_retried_by_the_sdk_handler_then_succeeds(ls: LocalSlack) -> None:
    ls.fail_next("chat.postMessage", 429, retry_after=0)
    client = WebClient(
        token="xoxb-test",
        base_url=ls.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    response = client.chat_postMessage(channel="C1", text="nudge")

    assert response["ok"] is True
    attempts = ls.calls_to("chat.postMessage")
    assert [(c.status, c.ok) for c in attempts] == [(429, False), (200, True)]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}
    assert attempts[0].params == attempts[1].params


def test_rate_limit_without_a_handler_surfaces_with_retry_after(
    ls: LocalSlack, client: WebClient
) -> None:
    ls.fail_next("chat.postMessage", 429, retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="nudge")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


def test_server_error_surfaces_as_slack_api_error_once(ls: LocalSlack) -> None:
    ls.fail_next("chat.postMessage", 500)
    client = WebClient(token="xoxb-test", base_url=ls.api_url, retry_handlers=[])

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="nudge")
    after = client.chat_postMessage(channel="C1", text="nudge")

    assert raised.value.response.status_code == 500
    assert raised.value.response["error"] == "internal_error"
    assert after["ok"] is True
    assert [c.status for c in ls.calls_to("chat.postMessage")] == [500, 200]


def test_fail_next_with_status_200_answers_ok_false(ls: LocalSlack, client: WebClient) -> None:
    ls.fail_next("users.info", 200, error="user_not_found", times=2)

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.users_info(user="U0GONE")
        assert raised.value.response["error"] == "user_not_found"
    assert client.users_info(user="U0GONE")["ok"] is True


def test_hang_next_makes_a_client_timeout_fire(ls: LocalSlack) -> None:
    ls.hang_next("chat.postMessage", 2.0)
    impatient = WebClient(token="xoxb-test", base_url=ls.api_url, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C1", text="slow")
    assert time.monotonic() - started < 1.5

    # The call was recorded on arrival, and only the next one hung.
    assert len(ls.calls_to("chat.postMessage")) == 1
    assert impatient.chat_postMessage(channel="C1", text="fast")["ok"] is True


def test_hold_next_answers_only_once_released(ls: LocalSlack, client: WebClient) -> None:
    ls.hold_next("chat.postMessage")
    answers: list[bool] = []
    caller = threading.Thread(
        target=lambda: answers.append(client.chat_postMessage(channel="C1", text="held")["ok"])
    )
    caller.start()
    ls.wait_for("chat.postMessage")  # recorded on arrival, not answered
    assert caller.is_alive() and answers == []
    ls.release_held()
    caller.join(timeout=5)
    assert answers == [True]
    assert client.chat_postMessage(channel="C1", text="free")["ok"] is True


def test_wait_for_blocks_until_the_call_arrives(ls: LocalSlack, client: WebClient) -> None:
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later"))
    timer.start()
    try:
        (call,) = ls.wait_for("chat.postMessage", timeout=3)
    finally:
        timer.join()
    assert call.params["text"] == "later"


def test_wait_for_reports_what_was_recorded(ls: LocalSlack, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.update.*got 0.*auth\.test"):
        ls.wait_for("chat.update", timeout=0.05)


def test_clear_forgets_calls_and_pending_failures(ls: LocalSlack, client: WebClient) -> None:
    client.auth_test()
    ls.fail_next("auth.test", 500)

    ls.clear()

    assert ls.calls == []
    assert client.auth_test()["ok"] is True


# ---- response_url ---------------------------------------------------------------------------


def test_response_url_posts_are_recorded_and_answered_ok(ls: LocalSlack) -> None:
    webhook = WebhookClient(ls.response_url("cmd-1"))

    answer = webhook.send(text="Working on Anchorage…", response_type="ephemeral")

    assert (answer.status_code, answer.body) == (200, "ok")
    (call,) = ls.calls_to("response_url")
    assert call.params == {"text": "Working on Anchorage…", "response_type": "ephemeral"}
    assert call.response_key == "cmd-1"
    assert call.token is None


def test_response_url_failures_answer_in_plain_text(ls: LocalSlack) -> None:
    ls.fail_next("response_url", 404, error="expired_url")

    answer = WebhookClient(ls.response_url("old")).send(text="too late")

    assert (answer.status_code, answer.body) == (404, "expired_url")


# ---- signing and request bodies -------------------------------------------------------------


def test_sign_request_matches_slacks_v0_scheme() -> None:
    body = "token=x&text=Tue+8-11"

    headers = sign_request(SECRET, body, timestamp=1_700_000_000)

    expected = hmac.new(SECRET.encode(), f"v0:1700000000:{body}".encode(), hashlib.sha256)
    assert headers == {
        "X-Slack-Request-Timestamp": "1700000000",
        "X-Slack-Signature": "v0=" + expected.hexdigest(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert sign_request(SECRET, "{}")["Content-Type"] == "application/json"


def test_signature_passes_slacks_verifier_and_tampering_fails() -> None:
    body = slash_command_body(
        command="/availability",
        text="Tue 8-11 PT",
        user_id="U0ALICE",
        response_url="http://127.0.0.1:1/response/x",
    )
    headers = sign_request(SECRET, body)
    ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid(body, ts, sig)
    assert not verifier.is_valid(body.replace("8-11", "8-12"), ts, sig)
    assert not SignatureVerifier("other-secret").is_valid(body, ts, sig)
    stale = sign_request(SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid(
        body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    )


def test_slash_command_body_has_slacks_fields_in_order() -> None:
    body = slash_command_body(
        command="/match",
        text="district=anchorage",
        user_id="U0ALICE",
        response_url="http://127.0.0.1:1/response/k",
        trigger_id="1.2.abc",
    )

    fields = parse_qs(body, keep_blank_values=True)
    assert list(fields) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert fields["command"] == ["/match"]
    assert fields["text"] == ["district=anchorage"]
    assert fields["channel_id"] == ["D0LOCAL"]
    assert fields["is_enterprise_install"] == ["false"]


def test_bolt_slash_command_round_trip(ls: LocalSlack) -> None:
    app = make_app(ls)

    @app.command("/hello")
    def hello(ack: Ack, respond: Respond) -> None:
        ack("hi")
        respond("later")

    body = slash_command_body(
        command="/hello", text="", user_id="U0ALICE", response_url=ls.response_url("hello-1")
    )

    assert dispatch(app, body) == (200, "hi")
    (followup,) = ls.wait_for("response_url")
    assert followup.params == {"text": "later"}
    assert followup.response_key == "hello-1"
    # Bolt's single-workspace authorization asked the fake who the bot is.
    assert ls.calls_to("auth.test")[0].token == "xoxb-x"


def test_bolt_rejects_a_body_signed_with_another_secret(ls: LocalSlack) -> None:
    app = make_app(ls)
    body = slash_command_body(
        command="/hello", text="", user_id="U0ALICE", response_url=ls.response_url("x")
    )

    response = dispatch_signed(app, "wrong", body)

    assert response.status == 401


def test_bolt_block_actions_round_trip(ls: LocalSlack) -> None:
    app = make_app(ls)
    seen: list[dict[str, Any]] = []

    @app.action("avail_save")
    def save(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        seen.append(body)
        respond(replace_original=True, text="Saved")

    action = {
        "type": "button",
        "action_id": "avail_save",
        "block_id": "avail_preview",
        "value": "draft-7",
        "text": {"type": "plain_text", "text": "Save"},
    }
    container = {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "DU0ALICE",
        "is_ephemeral": True,
    }
    body = block_actions_body(
        user_id="U0ALICE",
        action=action,
        response_url=ls.response_url("act-1"),
        container=container,
        message={"ts": "1700000000.000100", "text": "preview"},
    )

    assert dispatch(app, body) == (200, "")
    (followup,) = ls.wait_for("response_url")
    assert followup.params == {"text": "Saved", "replace_original": True}
    payload = seen[0]
    assert payload["user"]["id"] == "U0ALICE"
    assert payload["channel"]["id"] == "DU0ALICE"
    assert payload["actions"][0]["value"] == "draft-7"
    assert payload["actions"][0]["action_ts"]


def test_bolt_view_submission_round_trip(ls: LocalSlack) -> None:
    app = make_app(ls)

    @app.view("avail_modal")
    def submit(ack: Ack, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["avail_text"]["value"]["value"]
        ack(response_action="errors", errors={"avail_text": f"Could not read {text!r}"})

    state = {"avail_text": {"value": {"type": "plain_text_input", "value": "someday"}}}
    body = view_submission_body(user_id="U0ALICE", view=MODAL, state_values=state)

    status, answer = dispatch(app, body)

    assert status == 200
    assert json.loads(answer) == {
        "response_action": "errors",
        "errors": {"avail_text": "Could not read 'someday'"},
    }


def test_bolt_events_round_trip(ls: LocalSlack) -> None:
    app = make_app(ls)

    @app.event("message")
    def on_dm(event: dict[str, Any], say: Say) -> None:
        say(f"You said: {event['text']}")

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    dm = event_body(event=im_message_event(user_id="U0ALICE", text="Tue 8-11"), event_id="Ev1")
    home = event_body(event=app_home_opened_event(user_id="U0ALICE"), event_id="Ev2")

    assert dispatch(app, dm)[0] == 200
    assert dispatch(app, home)[0] == 200
    (said,) = ls.wait_for("chat.postMessage")
    (published,) = ls.wait_for("views.publish")
    assert (said.params["channel"], said.params["text"]) == ("DU0ALICE", "You said: Tue 8-11")
    assert published.params["user_id"] == "U0ALICE"


def test_event_builders_match_slacks_shapes() -> None:
    first = im_message_event(user_id="U0ALICE", text="hi")
    second = im_message_event(user_id="U0ALICE", text="again")
    envelope = json.loads(event_body(event=first, event_id="Ev9"))

    assert (first["channel"], first["channel_type"], first["user"]) == ("DU0ALICE", "im", "U0ALICE")
    assert first["ts"] == first["event_ts"]
    assert float(second["ts"]) > float(first["ts"])
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev9"
    assert envelope["event_time"] == int(float(first["ts"]))
    assert envelope["authorizations"][0]["user_id"] == "UBOT"
    assert app_home_opened_event(user_id="U0ALICE")["tab"] == "home"


# ---- console flow and command line ----------------------------------------------------------


def test_console_flow_renders_a_posted_message_and_presses_its_button(ls: LocalSlack) -> None:
    app = make_app(ls)
    pressed: list[str] = []

    @app.action("avail_save")
    def save(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        pressed.append(body["actions"][0]["value"])

    bot = WebClient(token="xoxb-x", base_url=ls.api_url)
    bot.chat_postMessage(
        channel="U0ALICE",
        text="Preview",
        blocks=[
            {
                "type": "actions",
                "block_id": "avail_preview",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "avail_save",
                        "text": {"type": "plain_text", "text": "Save"},
                        "value": "draft-7",
                    }
                ],
            }
        ],
    )
    (posted,) = ls.calls_to("chat.postMessage")
    message = posted.response["message"]
    shown = render_message(text=message["text"], blocks=message["blocks"])
    assert shown.text == "[1] Save"

    body = block_actions_body(
        user_id="U0ALICE",
        action=action_payload(shown.buttons[0]),
        response_url=None,
        container={"type": "message", "message_ts": message["ts"], "channel_id": "DU0ALICE"},
        message=message,
    )
    assert dispatch(app, body)[0] == 200
    assert pressed == ["draft-7"]


def test_command_line_prints_each_call_as_a_json_line() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.local_slack", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        banner = proc.stderr.readline()
        api_url = banner.split()[2]
        assert api_url.startswith("http://127.0.0.1:") and api_url.endswith("/api/")

        WebClient(token="xoxb-secret-token", base_url=api_url).chat_postMessage(
            channel="C1", text="hello"
        )

        line = json.loads(proc.stdout.readline())
        assert line["method"] == "chat.postMessage"
        assert line["params"] == {"channel": "C1", "text": "hello"}
        assert line["token"] == "xoxb-…"  # never the whole token
    finally:
        proc.terminate()
        proc.wait(timeout=5)

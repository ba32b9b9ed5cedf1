"""Development tools: ``python -m devtools.local_slack [--port N]``: run the fake by hand; it
prints each call as a JSON line."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from devtools.local_slack.fake import DEFAULT_TZ, LocalSlack, RecordedCall


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def _print_call(call: RecordedCall) -> None:
    token = f"{call.token[:5]}…" if call.token else None
    line = {
        "method": call.method,
        "status": call.status,
        "ok": call.ok,
        "token": token,
        "params": call.params,
        "response": call.response,
    }
    print(json.dumps(line, default=_json_default), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local_slack",
        description="A local fake of the Slack Web API; prints each call as a JSON line.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--tz", default=DEFAULT_TZ, help="time zone users.info reports")
    args = parser.parse_args(argv)
    fake = LocalSlack(args.host, args.port, default_tz=args.tz, on_call=_print_call)
    try:
        fake.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"LocalSlack on {fake.api_url} (SLACK_API_URL); Ctrl-C stops", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

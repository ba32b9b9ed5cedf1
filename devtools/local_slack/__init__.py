"""Development tools: a local fake of the Slack Web API on loopback that records what the bot said.

End-to-end tests run the bot as a subprocess with ``SLACK_API_URL=http://127.0.0.1:PORT/api/``
and assert on what it said (``calls``, ``wait_for``), including rate limits, server errors and
slow answers (``fail_next``, ``hang_next``). The console runs without any Slack at all and shows
what the bot said. Requests as Slack sends them are built in ``devtools.slack_requests``.

The fake answers the Web API methods the bot uses with realistic payloads, accepts posts to
response URLs, and implements the three-step ``files_upload_v2`` flow end to end.

Run ``python -m devtools.local_slack --port 8081`` to try it by hand: it prints each call as a
JSON line.
"""

from devtools.local_slack.fake import DEFAULT_TZ, LocalSlack, RecordedCall

__all__ = ["DEFAULT_TZ", "LocalSlack", "RecordedCall"]

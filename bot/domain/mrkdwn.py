"""Domain: putting text someone else wrote (a user's command, a roster name) into Slack mrkdwn.

Slack acts on ``<!channel>``, ``<@U1>`` and ``<http://…|link>`` wherever they appear, and a stray
backtick ends a code span; escaping ``& < >`` shows such text as typed, never acted on.
"""

from __future__ import annotations


def escape(text: str) -> str:
    """``<!channel> & co`` -> ``&lt;!channel&gt; &amp; co``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str, limit: int = 40) -> str:
    """User text echoed back in a code span: cut to ``limit``, no backtick can close it early."""
    return "`" + escape(text[:limit].replace("`", "'")) + "`"

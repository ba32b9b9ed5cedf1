"""Services: the ports services talk through instead of Slack.

A service that tells someone something hands a typed message (a dataclass of plain values, such
as a nudge or the weekly digest) to a ``Notifier``. It never lays the message out and never
imports the Slack gateway: the gateway is the production adapter (it renders the message with
``bot.views`` and posts it), and an in-memory fake records them in service tests.

Every DM that comes from the outbox carries its outbox key, so after an ambiguous failure (a
timeout, or a process killed between the post and marking it sent) the service can ask the
notifier whether that DM already reached the person before it posts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class DeliveryFailed(Exception):
    """The DM was not delivered this time; trying again later may work.

    ``uncertain`` means Slack may have taken it anyway (a timeout, a server error after the
    request went out): check ``Notifier.was_sent`` before posting it again.
    """

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class RecipientUnreachable(Exception):
    """The person cannot receive DMs (deactivated, unknown, a bot): retrying will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Slack's answers that mean "this person cannot get a DM from us", for good.
PERMANENT_ERRORS = frozenset(
    {"account_inactive", "user_not_found", "channel_not_found", "cannot_dm_bot", "user_disabled"}
)


@dataclass(frozen=True)
class Sent:
    channel: str
    ts: str


class Notifier(Protocol):
    """Where services send messages to people."""

    def send_dm(self, user_id: str, message: object, *, key: str | None = None) -> Sent:
        """DM ``message`` to the Slack user; ``key`` (the outbox key) travels with it.

        Raises ``DeliveryFailed`` or ``RecipientUnreachable``.
        """
        ...

    def was_sent(self, user_id: str, key: str) -> bool:
        """Whether a DM carrying ``key`` is among the user's recent DMs from the bot.

        Raises ``DeliveryFailed`` when that cannot be known now.
        """
        ...

"""Test support: an in-memory ``Notifier`` for service tests, where Slack is not the point."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.ports import DeliveryFailed, Sent


@dataclass
class FakeNotifier:
    """An in-memory ``Notifier`` for service tests: records what would have been sent.

    ``fail_next`` queues exceptions to raise on the next sends; ``taken_anyway`` makes an
    uncertain failure behave as Slack having taken the DM (it shows in ``was_sent``).
    """

    sent: list[tuple[str, object, str | None]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    taken_anyway: bool = False
    history_checks: int = 0

    def fail_next(self, *errors: Exception) -> None:
        self.failures.extend(errors)

    def send_dm(self, user_id: str, message: object, *, key: str | None = None) -> Sent:
        if self.failures:
            error = self.failures.pop(0)
            if isinstance(error, DeliveryFailed) and error.uncertain and self.taken_anyway:
                self.sent.append((user_id, message, key))
            raise error
        self.sent.append((user_id, message, key))
        return Sent(channel=f"D{user_id}", ts=f"{len(self.sent)}.000000")

    def was_sent(self, user_id: str, key: str) -> bool:
        self.history_checks += 1
        return any(u == user_id and k == key for u, _, k in self.sent)

    def messages_to(self, user_id: str) -> list[object]:
        return [m for u, m, _ in self.sent if u == user_id]

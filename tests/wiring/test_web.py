"""Wiring: ``serve``'s log stays readable under a burst: waitress's task-queue warnings become
one line per burst (and one a minute while it lasts), other waitress records pass untouched."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.web import QueueBursts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def setup() -> Iterator[tuple[QueueBursts, Clock, Lines]]:
    clock, lines = Clock(), Lines()
    bursts = QueueBursts(quiet=2.0, every=60.0, clock=clock)
    queue, web = logging.getLogger("waitress.queue"), logging.getLogger("bot.web")
    queue.addFilter(bursts)
    for logger in (queue, web):
        logger.addHandler(lines)
    try:
        yield bursts, clock, lines
    finally:
        queue.removeFilter(bursts)
        for logger in (queue, web):
            logger.removeHandler(lines)


def warn_depths(depths: range) -> None:
    for depth in depths:
        logging.getLogger("waitress.queue").warning("Task queue depth is %d", depth)


def test_a_burst_is_its_first_warning_and_one_line_when_it_is_over(
    setup: tuple[QueueBursts, Clock, Lines],
) -> None:
    bursts, clock, lines = setup
    warn_depths(range(1, 301))
    assert lines.messages() == ["Task queue depth is 1"]
    clock.now += 1.0
    bursts.tick()  # still within the quiet time: the burst may go on
    assert len(lines.records) == 1
    clock.now += 2.0
    bursts.tick()
    bursts.tick()  # once
    assert lines.messages()[1:] == ["serve.queue_burst"]
    summary = lines.records[1].__dict__
    assert (summary["peak_depth"], summary["warnings"], summary["over"]) == (300, 300, True)
    warn_depths(range(1, 3))  # the next burst starts with a line of its own
    assert lines.messages()[2:] == ["Task queue depth is 1"]


def test_a_long_burst_is_summed_up_every_minute(setup: tuple[QueueBursts, Clock, Lines]) -> None:
    bursts, clock, lines = setup
    for _ in range(70):
        warn_depths(range(5, 7))
        clock.now += 1.0
        bursts.tick()
    summaries = [r.__dict__ for r in lines.records if r.getMessage() == "serve.queue_burst"]
    assert len(summaries) == 1 and not summaries[0]["over"]
    assert (summaries[0]["peak_depth"], summaries[0]["warnings"]) == (6, 120)
    assert len(lines.records) == 2


def test_other_waitress_records_pass(setup: tuple[QueueBursts, Clock, Lines]) -> None:
    _, _, lines = setup
    warn_depths(range(1, 10))
    logging.getLogger("waitress.queue").error("Exception when servicing %r", "task")
    logging.getLogger("waitress.queue").warning("something else")
    assert lines.messages() == [
        "Task queue depth is 1",
        "Exception when servicing 'task'",
        "something else",
    ]

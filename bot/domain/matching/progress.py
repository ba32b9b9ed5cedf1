"""Domain: how far a running solve has got, for a caller that shows it ("Matching… 4 s, 255
served so far, at most 274").

`solve` calls an optional `ProgressFn` at its phase boundaries and after each component's
work; the caller decides what, if anything, to show and how often. A report is cheap to make
and the callback must be too (record it, don't talk to Slack from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    phase: str  # "greedy", "bound", "cover", "polish"
    elapsed_s: float  # wall time since the solve started
    served: int  # student services the best solution so far serves
    bound: int | None = None  # at most this many can be served, once the relaxation knows


ProgressFn = Callable[[Progress], None]

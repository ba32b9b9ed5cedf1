"""Domain: shared preparation for the matcher's solvers.

Interval arithmetic, the licence rule, and candidate slots: the starts on the `slot_step` grid where
a session fits inside a school window, a provider's availability, outside their busy time and
outside the student's (`Need.busy`: their sessions of other services that stay).
Greedy, CP-SAT and the explanations use this; the validator deliberately does not.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from .model import Interval, MatchInput, Need, Provider, SchoolDay

Slot = tuple[str, int, int]
"""(school-local day, start, end) in absolute minutes."""


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    out: list[list[int]] = []
    for a, b in sorted(iv for iv in intervals if iv[1] > iv[0]):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def subtract(base: Sequence[Interval], holes: Sequence[Interval]) -> tuple[Interval, ...]:
    """`base` minus `holes`; both must be merged (sorted, disjoint)."""
    out: list[Interval] = []
    j = 0
    for a, b in base:
        cur = a
        while j < len(holes) and holes[j][1] <= cur:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < b:
            ha, hb = holes[k]
            if ha > cur:
                out.append((cur, ha))
            cur = max(cur, hb)
            k += 1
        if cur < b:
            out.append((cur, b))
    return tuple(out)


def intersect(xs: Sequence[Interval], ys: Sequence[Interval]) -> tuple[Interval, ...]:
    """Intersection of two merged interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        a = max(xs[i][0], ys[j][0])
        b = min(xs[i][1], ys[j][1])
        if a < b:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def licensed(need: Need, provider: Provider) -> bool:
    """The licence rule: the right discipline, and licences in the school's and the home state."""
    return (
        provider.discipline == need.service
        and need.state in provider.licensed_states
        and provider.home_state in provider.licensed_states
    )


def free_time(provider: Provider) -> tuple[Interval, ...]:
    return subtract(merge(provider.available), merge(provider.busy))


def grid_starts(piece: Interval, minutes: int, step: int) -> list[int]:
    """Starts on the absolute `step` grid where `minutes` fit inside `piece`.

    When a piece is long enough but no grid start fits (e.g. school hours 08:10-08:40 for a
    30-minute session), the piece's own start is used so such a window is not lost.
    """
    a, b = piece
    first = -((-a) // step) * step
    starts = list(range(first, b - minutes + 1, step))
    if not starts and b - a >= minutes:
        starts = [a]
    return starts


class Calendar:
    """Disjoint [start, end) intervals kept sorted, with an O(log n) free check."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def is_free(self, s: int, e: int) -> bool:
        i = bisect.bisect_right(self.starts, s)
        if i > 0 and self.ends[i - 1] > s:
            return False
        return not (i < len(self.starts) and self.starts[i] < e)

    def add(self, s: int, e: int) -> None:
        i = bisect.bisect_right(self.starts, s)
        self.starts.insert(i, s)
        self.ends.insert(i, e)


class Prep:
    """Per-input caches: providers' free time, licence eligibility and candidate slots.

    Needs of one school share their school days, so caches are keyed by an interned id of the
    `school_days` tuple rather than by need; a need with busy time of its own (`Need.busy`) gets
    its slots, pieces and days cached by need instead.
    """

    def __init__(self, inp: MatchInput) -> None:
        self.inp = inp
        self.needs = inp.needs
        self.providers = inp.providers
        self.step = max(1, inp.slot_step)
        self.free: list[tuple[Interval, ...]] = [free_time(p) for p in inp.providers]
        self._free_ends = [[b for _, b in f] for f in self.free]
        self.provider_index = {p.provider_id: i for i, p in enumerate(inp.providers)}
        self.need_index = {n.key: i for i, n in enumerate(inp.needs)}
        by_key: dict[tuple[str, str], list[int]] = {}
        for n in inp.needs:
            k = (n.service, n.state)
            if k not in by_key:
                by_key[k] = [j for j, p in enumerate(inp.providers) if licensed(n, p)]
        self._licensed = by_key
        days_ids: dict[tuple[SchoolDay, ...], int] = {}
        self.days_id: list[int] = []
        self._windows: list[list[tuple[int, int, str]]] = []
        for n in inp.needs:
            did = days_ids.get(n.school_days)
            if did is None:
                did = days_ids[n.school_days] = len(self._windows)
                wins = [(a, b, sd.day) for sd in n.school_days for a, b in merge(sd.windows)]
                self._windows.append(sorted(wins))
            self.days_id.append(did)
        self._pieces: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
        self._piece_ends: dict[tuple[int, int], list[int]] = {}
        self._slots: dict[tuple[int, int, int], tuple[Slot, ...]] = {}
        self._slot_starts: dict[tuple[int, int, int], list[int]] = {}
        self._days: dict[tuple[int, int, int], int] = {}
        self._slot_sets: dict[tuple[int, int, int], frozenset[Slot]] = {}
        self._eligible: dict[int, tuple[int, ...]] = {}
        self.busy: list[tuple[Interval, ...]] = [merge(n.busy) for n in inp.needs]
        self._need_pieces: dict[tuple[int, int], list[tuple[str, int, int]]] = {}

    def free_ends(self, pi: int) -> list[int]:
        """Ends of provider pi's free stretches (for bisecting a time into its stretch)."""
        return self._free_ends[pi]

    def licensed_providers(self, ni: int) -> list[int]:
        n = self.needs[ni]
        return self._licensed[(n.service, n.state)]

    def pieces(self, did: int, pi: int) -> list[tuple[str, int, int]]:
        """School windows (by days id) intersected with provider pi's free time."""
        key = (did, pi)
        got = self._pieces.get(key)
        if got is None:
            free = self.free[pi]
            ends = self._free_ends[pi]
            got = []
            n_free = len(free)
            for xa, xb, day in self._windows[did]:
                j = bisect.bisect_right(ends, xa)
                while j < n_free:
                    ya, yb = free[j]
                    if ya >= xb:
                        break
                    a = xa if xa > ya else ya
                    b = xb if xb < yb else yb
                    if a < b:
                        got.append((day, a, b))
                    j += 1
            self._pieces[key] = got
            self._piece_ends[key] = [b for _, _, b in got]
        return got

    def need_pieces(self, ni: int, pi: int) -> list[tuple[str, int, int]]:
        """`pieces` for need ni's school and provider pi, less the student's busy time."""
        busy = self.busy[ni]
        if not busy:
            return self.pieces(self.days_id[ni], pi)
        got = self._need_pieces.get((ni, pi))
        if got is None:
            got = [
                (day, c, d)
                for day, a, b in self.pieces(self.days_id[ni], pi)
                for c, d in subtract(((a, b),), busy)
            ]
            self._need_pieces[(ni, pi)] = got
        return got

    def _key(self, ni: int, pi: int) -> tuple[int, int, int]:
        # A need whose busy time meets pi's pieces is keyed apart (negative ids never clash);
        # otherwise it shares the school's slots and days.
        did = self.days_id[ni]
        if self.busy[ni]:
            pieces = self.pieces(did, pi)
            ends = self._piece_ends[(did, pi)]
            for a, b in self.busy[ni]:
                j = bisect.bisect_right(ends, a)
                if j < len(pieces) and pieces[j][1] < b:
                    return (-1 - ni, pi, self.needs[ni].session_minutes)
        return (did, pi, self.needs[ni].session_minutes)

    def slots(self, ni: int, pi: int) -> tuple[Slot, ...]:
        """Candidate slots for need `ni` with provider `pi`, ignoring everything else's sessions
        (but not the student's busy time: those of the school's slots that overlap it go)."""
        key = self._key(ni, pi)
        got = self._slots.get(key)
        if got is None:
            if key[0] < 0:
                # Drop the school's slots that start within (a - minutes, b) of a busy (a, b).
                base = self._school_slots(ni, pi)
                starts = self._slot_starts[(self.days_id[ni], pi, key[2])]
                kept: list[Slot] = []
                prev = 0
                for a, b in self.busy[ni]:
                    lo = max(prev, bisect.bisect_right(starts, a - key[2]))
                    hi = bisect.bisect_left(starts, b)
                    if lo < hi:
                        kept.extend(base[prev:lo])
                        prev = hi
                kept.extend(base[prev:])
                got = tuple(kept)
            else:
                got = self._school_slots(ni, pi)
            self._slots[key] = got
        return got

    def _school_slots(self, ni: int, pi: int) -> tuple[Slot, ...]:
        """Slots for any need of ni's school and session length with provider pi."""
        m = self.needs[ni].session_minutes
        key = (self.days_id[ni], pi, m)
        got = self._slots.get(key)
        if got is None:
            seen: set[Slot] = set()
            for day, a, b in self.pieces(key[0], pi):
                for s in grid_starts((a, b), m, self.step):
                    seen.add((day, s, s + m))
            got = tuple(sorted(seen, key=lambda x: (x[1], x[0])))
            self._slots[key] = got
            self._slot_starts[key] = [s for _, s, _ in got]
        return got

    def slot_set(self, ni: int, pi: int) -> frozenset[Slot]:
        key = self._key(ni, pi)
        got = self._slot_sets.get(key)
        if got is None:
            got = self._slot_sets[key] = frozenset(self.slots(ni, pi))
        return got

    def _school_days(self, ni: int, pi: int) -> int:
        m = self.needs[ni].session_minutes
        key = (self.days_id[ni], pi, m)
        got = self._days.get(key)
        if got is None:
            got = len({d for d, a, b in self.pieces(key[0], pi) if b - a >= m})
            self._days[key] = got
        return got

    def common_days(self, ni: int, pi: int) -> int:
        """Distinct school days on which a session of this need fits pi's free time (and the
        student's)."""
        key = self._key(ni, pi)
        if key[0] >= 0:
            return self._school_days(ni, pi)
        got = self._days.get(key)
        if got is None:
            got = len({d for d, _, _ in self.slots(ni, pi)})
            self._days[key] = got
        return got

    def eligible(self, ni: int) -> tuple[int, ...]:
        """Licensed providers with capacity for the need and time on sessions_per_week days."""
        got = self._eligible.get(ni)
        if got is None:
            n = self.needs[ni]
            spw = n.sessions_per_week
            cost = spw * n.session_minutes
            got = tuple(
                pi
                for pi in self.licensed_providers(ni)
                if self.providers[pi].capacity_minutes >= cost
                and self._school_days(ni, pi) >= spw  # cheap, shared by the school's needs
                and self.common_days(ni, pi) >= spw
            )
            self._eligible[ni] = got
        return got

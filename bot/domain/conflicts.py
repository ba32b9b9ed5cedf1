"""Domain: which planned sessions can't happen as planned, and why; computed, never stored.

One rule for every place that shows conflicts (the manager Home, ``/caseload``, the digest,
an availability preview): given plain facts about providers, students and school calendars as
they are *now*, each assigned weekly slot (and each dated session) is checked on every date of a
range. A date that can't happen gets one cause, the first that applies in this order:

provider removed > student exited > service ended > school closed > licence > time off >
outside the provider's availability.

Dates are school-local (a weekly slot is a wall-clock promise in the school's zone); time off
is in the provider's own dates; availability windows carry their own zone. Each instant is
converted on its own date, so daylight saving is exact in every zone (Arizona and Hawaii do not
shift). A licence counts on a date only while ``date < expires_on``: on its date it no longer
counts, as everywhere else in the bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.domain.conflict_facts import (
    Cause,
    Closure,
    Conflict,
    DatedSession,
    Facts,
    ProviderFacts,
    Slot,
    StudentFacts,
    TimeOff,
    Window,
)

# The rule, and the values it reads and returns (defined in bot.domain.conflict_facts).
__all__ = [
    "Cause",
    "Closure",
    "Conflict",
    "DAY_MINUTES",
    "DatedSession",
    "Facts",
    "LicenceGap",
    "ProviderFacts",
    "Rule",
    "Slot",
    "StudentFacts",
    "TimeOff",
    "Window",
    "closures_in",
    "find_conflicts",
    "licence_gaps",
    "licence_valid",
    "utc_minute",
]

DAY_MINUTES = 1440
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- instants as minutes, offsets cached per zone and hour ----------------------------------


@lru_cache(maxsize=65536)
def _offset(tz: str, utc_hour: int) -> int:
    """The zone's UTC offset in minutes during one UTC hour (exact across any transition)."""
    instant = _EPOCH + timedelta(hours=utc_hour)
    off = instant.astimezone(ZoneInfo(tz)).utcoffset()
    return int(off.total_seconds() // 60) if off else 0


def _utc_minute_of_wall(tz: str, ordinal: int, minute: int) -> int:
    """Minutes since the epoch of a wall time; the offset is the one in force at that time."""
    wall = (ordinal - _EPOCH_ORDINAL) * DAY_MINUTES + minute
    guess = wall - _offset(tz, wall // 60)
    return wall - _offset(tz, guess // 60)


def _to_wall(tz: str, utc_minute: int) -> int:
    return utc_minute + _offset(tz, utc_minute // 60)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def utc_minute(instant: datetime) -> int:
    """Minutes since the epoch of an aware instant (what ``Rule.cause`` takes)."""
    return int((instant - _EPOCH).total_seconds() // 60)


def _as_instant(utc_minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=utc_minute)


def _ordinal_of(wall_minute: int) -> int:
    return wall_minute // DAY_MINUTES + _EPOCH_ORDINAL


# --- the rule ------------------------------------------------------------------------------


def licence_valid(licences: Mapping[str, date], state: str, on: date) -> bool:
    expires = licences.get(state)
    return expires is not None and on < expires


def _local(tz: str, utc_minute: int) -> tuple[int, int]:
    """(date ordinal, minute of the day) of an instant in ``tz``."""
    wall = _to_wall(tz, utc_minute)
    ordinal = _ordinal_of(wall)
    return ordinal, wall - (ordinal - _EPOCH_ORDINAL) * DAY_MINUTES


def _merged(windows: Iterable[Window], tz: str, on: date) -> tuple[tuple[int, int], ...]:
    """The day's windows of one zone valid on ``on``, touching ones joined (8-10 + 10-12)."""
    weekday = on.weekday()
    mine = sorted(
        (w.start, w.end) for w in windows if w.tz == tz and w.day == weekday and w.valid_on(on)
    )
    out: list[tuple[int, int]] = []
    for a, b in mine:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def _closed(closures: Sequence[Closure], on: date, local_end: int) -> bool:
    return any(
        c.start <= on <= c.end and (c.ends_at is None or local_end > c.ends_at) for c in closures
    )


class Rule:
    """The conflict rule over one set of facts; it remembers each provider's day windows."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._days: dict[tuple[str, str, int], tuple[tuple[int, int], ...]] = {}
        self._zones: dict[str, tuple[str, ...]] = {}
        self._provider_dates: dict[tuple[str, int], tuple[tuple[int, ...], frozenset[int]]] = {}
        self._school_dates: dict[tuple[str, int], tuple[tuple[int, ...], frozenset[int]]] = {}
        self._closed_days: dict[tuple[str, int], frozenset[int]] = {}

    def provider_dates(
        self, provider: ProviderFacts | None, o0: int, last: int
    ) -> tuple[tuple[int, ...], frozenset[int]]:
        """For a slot's dates ``o0 + 7k``: the ordinals where the provider's answer may change
        (windows' effective dates, their zones' daylight-saving changes), and the indexes time
        off may touch (in the provider's dates: a day either side covers any zone difference)."""
        if provider is None:
            return (), frozenset()
        key = (provider.provider_id, o0)
        got = self._provider_dates.get(key)
        if got is None:
            cuts: list[int] = []
            for w in provider.windows:
                if w.effective_from is not None:
                    cuts.append(w.effective_from.toordinal())
                if w.effective_to is not None:
                    cuts.append(w.effective_to.toordinal() + 1)
            for zone in {provider.tz, *(w.tz for w in provider.windows)}:
                cuts += _transitions(zone, o0 - 1, last + 1)
            spans = [
                (t.start - timedelta(days=1), t.end + timedelta(days=1)) for t in provider.time_off
            ]
            got = self._provider_dates[key] = (tuple(cuts), _indexes(spans, o0, last))
        return got

    def school_dates(
        self, student: StudentFacts | None, tz: str, o0: int, last: int
    ) -> tuple[tuple[int, ...], frozenset[int]]:
        """The school's zone changes, and the indexes its calendar touches."""
        if student is None:
            return (), frozenset()
        key = (student.school_id, o0)
        got = self._school_dates.get(key)
        if got is None:
            spans = [(c.start, c.end) for c in self.facts.closures.get(student.school_id, ())]
            got = self._school_dates[key] = (
                _transitions(tz, o0 - 1, last + 1),
                _indexes(spans, o0, last),
            )
        return got

    def closed_days(self, student: StudentFacts | None, o0: int, last: int) -> frozenset[int]:
        """The indexes on which the school is closed all day."""
        if student is None:
            return frozenset()
        key = (student.school_id, o0)
        got = self._closed_days.get(key)
        if got is None:
            closures = self.facts.closures.get(student.school_id, ())
            spans = [(c.start, c.end) for c in closures if c.closed]
            got = self._closed_days[key] = _indexes(spans, o0, last)
        return got

    def _windows(
        self, provider: ProviderFacts, tz: str, ordinal: int
    ) -> tuple[tuple[int, int], ...]:
        key = (provider.provider_id, tz, ordinal)
        got = self._days.get(key)
        if got is None:
            got = self._days[key] = _merged(provider.windows, tz, date.fromordinal(ordinal))
        return got

    def available(self, provider: ProviderFacts, begin_utc: int, minutes: int) -> bool:
        """Whether ``minutes`` from ``begin_utc`` lie inside one of the provider's windows."""
        zones = self._zones.get(provider.provider_id)
        if zones is None:
            zones = self._zones[provider.provider_id] = tuple(
                sorted({w.tz for w in provider.windows})
            )
        for tz in zones:
            ordinal, lo = _local(tz, begin_utc)
            hi = lo + minutes
            for a, b in self._windows(provider, tz, ordinal):  # a plain loop: this is hot
                if a <= lo and hi <= b:
                    return True
        return False

    @staticmethod
    def on_time_off(provider: ProviderFacts, begin_utc: int, minutes: int) -> bool:
        for t in provider.time_off:
            whole = t.from_minute is None or t.to_minute is None
            ordinal, lo = _local(provider.tz if whole else (t.tz or provider.tz), begin_utc)
            on = date.fromordinal(ordinal)
            if not t.start <= on <= t.end:
                continue
            if whole:
                return True
            assert t.from_minute is not None and t.to_minute is not None
            if lo < t.to_minute and t.from_minute < lo + minutes:
                return True
        return False

    def cause(
        self,
        provider_id: str,
        student_id: str,
        service: str,
        on: date,
        local_start: int,
        begin_utc: int,
        minutes: int,
        dated: bool = True,
    ) -> Cause | None:
        """Why one occurrence (school-local date and start; UTC minute) can't happen, or None.

        ``dated=False`` leaves out the causes that hold on single dates (a closed school, time
        off), for a date known to be free of them.
        """
        facts = self.facts
        provider = facts.providers.get(provider_id)
        if provider is None or provider.removed:
            return Cause.PROVIDER_REMOVED
        student = facts.students.get(student_id)
        if student is None or student.exited:
            return Cause.STUDENT_EXITED
        ends = facts.service_ends.get((student_id, service))
        if ends is not None and on > ends:
            return Cause.SERVICE_ENDED
        if dated and _closed(facts.closures.get(student.school_id, ()), on, local_start + minutes):
            return Cause.SCHOOL_CLOSED
        if not licence_valid(provider.licences, student.state, on):
            return Cause.LICENCE
        if dated and self.on_time_off(provider, begin_utc, minutes):
            return Cause.TIME_OFF
        if not self.available(provider, begin_utc, minutes):
            return Cause.OUTSIDE_AVAILABILITY
        return None


@dataclass
class _Hits:
    first: date
    last: date
    first_utc: int
    count: int = 1


def _slot_hits(
    rule: Rule, slot: Slot, first_ord: int, last_ord: int, skip_closed: bool = False
) -> dict[Cause, _Hits]:
    """The slot's dates in ``[first_ord, last_ord]`` by cause (``skip_closed``: without the
    dates its school is closed all day).

    Walking every date of every slot is too slow for a whole organisation, so the dates are cut
    into runs between the points where the answer may change (a zone's daylight-saving change,
    a window's effective date, the licence's expiry, the service's end): one check per run. Only
    the dates a closure or time off touches are checked one by one.
    """
    facts = rule.facts
    hits: dict[Cause, _Hits] = {}
    o0 = first_ord + (slot.day - date.fromordinal(first_ord).weekday()) % 7
    if o0 > last_ord:
        return hits
    n = (last_ord - o0) // 7 + 1
    student = facts.students.get(slot.student_id)
    provider = facts.providers.get(slot.provider_id)
    tz = facts.school_tz.get(student.school_id, "UTC") if student else "UTC"
    minutes = slot.end - slot.start
    p_cuts, p_special = rule.provider_dates(provider, o0, last_ord)
    s_cuts, s_special = rule.school_dates(student, tz, o0, last_ord)
    special = p_special | s_special
    closed = rule.closed_days(student, o0, last_ord) if skip_closed else frozenset()
    cuts = [*p_cuts, *s_cuts]
    if student is not None and provider is not None:
        ends = facts.service_ends.get((slot.student_id, slot.service))
        if ends is not None:
            cuts.append(ends.toordinal() + 1)
        expires = provider.licences.get(student.state)
        if expires is not None:
            cuts.append(expires.toordinal())
    inside = [(c - o0 + 6) // 7 for c in cuts if o0 < c <= last_ord]
    if not inside and not special:  # the usual case: one answer for every date
        begin = _utc_minute_of_wall(tz, o0, slot.start)
        found = rule.cause(
            slot.provider_id, slot.student_id, slot.service, date.fromordinal(o0),
            slot.start, begin, minutes, False,
        )  # fmt: skip
        if found is not None:
            hits[found] = _Hits(date.fromordinal(o0), date.fromordinal(o0 + 7 * (n - 1)), begin, n)
        return hits
    bounds = sorted({0, n, *inside}) if inside else [0, n]

    def check(k: int, dated: bool) -> Cause | None:
        ordinal = o0 + 7 * k
        begin = _utc_minute_of_wall(tz, ordinal, slot.start)
        return rule.cause(
            slot.provider_id, slot.student_id, slot.service, date.fromordinal(ordinal),
            slot.start, begin, minutes, dated,
        )  # fmt: skip

    def add(cause: Cause | None, k_first: int, k_last: int, count: int) -> None:
        if cause is None or count <= 0:
            return
        first, last = date.fromordinal(o0 + 7 * k_first), date.fromordinal(o0 + 7 * k_last)
        h = hits.get(cause)
        if h is None:
            begin = _utc_minute_of_wall(tz, o0 + 7 * k_first, slot.start)
            hits[cause] = _Hits(first, last, begin, count)
            return
        if first < h.first:
            h.first, h.first_utc = first, _utc_minute_of_wall(tz, o0 + 7 * k_first, slot.start)
        h.last = max(h.last, last)
        h.count += count

    for a, b in zip(bounds, bounds[1:], strict=False):
        plain = [k for k in range(a, b) if k not in special] if special else range(a, b)
        if plain:
            add(check(plain[0], False), plain[0], plain[-1], len(plain))
        for k in sorted(k for k in special if a <= k < b and k not in closed):
            cause = check(k, True)
            add(cause, k, k, 1)
    return hits


def _indexes(spans: Iterable[tuple[date, date]], o0: int, last: int) -> frozenset[int]:
    """Indexes ``k`` of the dates ``o0 + 7k`` (up to ``last``) inside any of the spans."""
    n = (last - o0) // 7 + 1
    out: set[int] = set()
    for a, b in spans:
        lo = max(0, -(-(a.toordinal() - o0) // 7))
        hi = min(n - 1, (b.toordinal() - o0) // 7)
        out.update(range(lo, hi + 1))
    return frozenset(out)


@lru_cache(maxsize=1024)
def _transitions(tz: str, first: int, last: int) -> tuple[int, ...]:
    """Ordinals (and the day after) where the zone's offset at noon differs from the day before;
    a weekly slot's wall time converts the same way between two of them."""
    out: list[int] = []
    before = _offset(tz, _noon_hour(first))
    for ordinal in range(first + 1, last + 1):
        now = _offset(tz, _noon_hour(ordinal))
        if now != before:
            out += [ordinal - 1, ordinal, ordinal + 1]
            before = now
    return tuple(out)


def _noon_hour(ordinal: int) -> int:
    return (ordinal - _EPOCH_ORDINAL) * 24 + 12


def find_conflicts(
    slots: Iterable[Slot],
    sessions: Iterable[DatedSession],
    facts: Facts,
    start: date,
    end: date,
    *,
    closures_apart: bool = False,
) -> list[Conflict]:
    """Every slot and session that can't happen as planned on a date in ``[start, end]``.

    Dates are school-local. Slots are walked date by date; one ``Conflict`` per (slot, cause)
    with the first and last dates hit and how many. Sessions are checked on their own date.
    ``closures_apart``: the dates a school is closed all day are left out (for views that show
    "closed Dec 21 – Jan 1" once, rather than every slot that falls on it).
    """
    rule = Rule(facts)
    out: list[Conflict] = []
    first_ord, last_ord = start.toordinal(), end.toordinal()
    for slot in slots:
        for cause, h in _slot_hits(rule, slot, first_ord, last_ord, closures_apart).items():
            student = facts.students.get(slot.student_id)
            out.append(_conflict(facts, cause, slot, student.school_id if student else "", h))
    for sess in sessions:
        student = facts.students.get(sess.student_id)
        school = student.school_id if student else ""
        tz = facts.school_tz.get(school, "UTC")
        begin = utc_minute(sess.starts_at)
        ordinal, local = _local(tz, begin)
        if not first_ord <= ordinal <= last_ord:
            continue
        on = date.fromordinal(ordinal)
        if closures_apart and any(
            c.closed and c.start <= on <= c.end for c in facts.closures.get(school, ())
        ):
            continue
        found = rule.cause(
            sess.provider_id, sess.student_id, sess.service, on, local, begin, sess.minutes
        )
        if found is None:
            continue
        expires, state = _licence_detail(found, facts.providers.get(sess.provider_id), student)
        out.append(
            Conflict(
                found,
                sess.provider_id,
                sess.student_id,
                sess.service,
                school,
                on,
                on,
                1,
                sess.starts_at,
                session_id=sess.session_id,
                licence_expires=expires,
                state=state,
            )  # fmt: skip
        )
    return out


def _licence_detail(
    cause: Cause, provider: ProviderFacts | None, student: StudentFacts | None
) -> tuple[date | None, str | None]:
    """(the expiry that caused it, the state) for a licence conflict; (None, None) otherwise."""
    if cause != Cause.LICENCE or provider is None or student is None:
        return None, None
    return provider.licences.get(student.state), student.state


def _conflict(facts: Facts, cause: Cause, slot: Slot, school: str, h: _Hits) -> Conflict:
    provider = facts.providers.get(slot.provider_id)
    student = facts.students.get(slot.student_id)
    expires, state = _licence_detail(cause, provider, student)
    return Conflict(
        cause, slot.provider_id, slot.student_id, slot.service, school, h.first, h.last, h.count,
        _as_instant(h.first_utc), slot_id=slot.slot_id, day=slot.day, start=slot.start,
        licence_expires=expires, state=state,
    )  # fmt: skip


# --- summaries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceGap:
    """ "AK licence expires Dec 16: 13 services need a new provider from Dec 16 unless renewed"."""

    provider_id: str
    state: str
    expires: date | None  # None: no licence for that state at all
    services: tuple[tuple[str, str], ...]  # (student_id, service), sorted
    school_ids: tuple[str, ...]


def licence_gaps(conflicts: Iterable[Conflict]) -> list[LicenceGap]:
    """Licence conflicts grouped per (provider, state, expiry), earliest expiry first."""
    groups: dict[tuple[str, str, date | None], tuple[set[tuple[str, str]], set[str]]] = {}
    for c in conflicts:
        if c.cause != Cause.LICENCE or c.state is None:
            continue
        pairs, schools = groups.setdefault(
            (c.provider_id, c.state, c.licence_expires), (set(), set())
        )
        pairs.add((c.student_id, c.service))
        schools.add(c.school_id)
    return [
        LicenceGap(p, st, exp, tuple(sorted(pairs)), tuple(sorted(schools)))
        for (p, st, exp), (pairs, schools) in sorted(
            groups.items(), key=lambda kv: (kv[0][2] or date.min, kv[0][0], kv[0][1])
        )
    ]


def closures_in(closures: Sequence[Closure], start: date, end: date) -> list[Closure]:
    """The whole-day closures that touch ``[start, end]``, in date order (for "closed Dec 21 –
    Jan 1")."""
    return sorted(
        (c for c in closures if c.closed and c.start <= end and c.end >= start),
        key=lambda c: (c.start, c.end),
    )

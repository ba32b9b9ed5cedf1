"""Domain: the second pass: day chains, weekdays used as dates, and day/time groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.availability_text.calendar_dates import next_occurrence
from bot.domain.availability_text.clock_times import open_span, time_range
from bot.domain.availability_text.elements import (
    CalendarDate,
    ClockTime,
    DateMention,
    DaySet,
    Element,
    Keyword,
    TimeSpan,
    ZoneMention,
)
from bot.domain.availability_text.questions import (
    Q_BAD_TIME,
    Q_OFF_ONE_SPAN,
    Q_OFF_RECURRING,
    Q_SINGLE_TIME,
    AskUser,
)
from bot.domain.availability_text.vocabulary import (
    DATE_MARKER_ROLES,
    DAY_FULL,
    DAY_TITLES,
    MONTH_ABBR,
    UNTIL_WORDS,
)


def join_days(els: list[Element], today: date, time_off: bool) -> list[Element]:
    """Joins day words into day sets ("M-F", "Mon, Wed", "Tuesdays and Thursdays"), and turns
    weekdays used as dates ("starting next Monday", "off Friday") into dates."""
    out: list[Element] = []
    n = len(els)
    j = 0
    while j < n:
        e = els[j]
        if isinstance(e, Keyword) and e.role in ("next", "this") and j + 1 < n:
            nxt = els[j + 1]
            if isinstance(nxt, DaySet) and not nxt.plural and len(nxt.days) == 1:
                out.append(_days_as_date(nxt, today, next_week=e.role == "next"))
                j += 2
                continue
        if isinstance(e, Keyword) and e.role == "weekof" and j + 1 < n:
            nxt = els[j + 1]
            if isinstance(nxt, DateMention) and nxt.end is None:
                out.append(Keyword("weekof", e.raw))
                out.append(nxt)
                j += 2
                continue
        if isinstance(e, DaySet):
            prev = out[-1] if out else None
            # After "starting"/"back"/"from" the first day is a date: "starting Monday Tue 8-11".
            after_marker = isinstance(prev, Keyword) and prev.role in DATE_MARKER_ROLES
            chain, j2 = _day_chain(els, j, lists=not after_marker)
            label = _day_label_for_date(els, j2, chain)
            if label is not None:
                label.weekday_hint = chain.days[0]
                j = j2
                continue
            if chain.weak:
                following = els[j2] if j2 < n else None
                if not isinstance(following, ClockTime):
                    j = j2
                    continue  # a stray letter, not a day
            as_date = False
            if isinstance(prev, Keyword) and len(chain.days) == 1 and not chain.plural:
                if prev.role in ("start", "back"):
                    as_date = True
                elif prev.role == "range":
                    before = out[-2] if len(out) >= 2 else None
                    as_date = not isinstance(before, DaySet) and prev.raw.lower() in UNTIL_WORDS
                elif prev.role == "from":
                    then = els[j2] if j2 < n else None
                    later_days = any(isinstance(x, DaySet) for x in els[j2:])
                    as_date = later_days and not (
                        isinstance(then, Keyword) and then.role == "range"
                    )
            if (
                time_off
                and not as_date
                and not (isinstance(prev, Keyword) and prev.role == "except")
            ):
                if chain.plural:
                    raise AskUser(_recurring_question(chain, today))
                as_date = True
            if as_date:
                out.append(_days_as_date(chain, today, next_week=False))
            else:
                out.append(chain)
            j = j2
            continue
        out.append(e)
        j += 1
    return out


def _day_label_for_date(els: list[Element], j: int, chain: DaySet) -> CalendarDate | None:
    """ "Fri Dec 4" / "Friday, Dec 4": the weekday only labels the date that follows."""
    if len(chain.days) != 1 or chain.plural:
        return None
    k = j
    if k < len(els):
        comma = els[k]
        if isinstance(comma, Keyword) and comma.role == ",":
            k += 1
    if k < len(els):
        nxt = els[k]
        if isinstance(nxt, DateMention) and isinstance(nxt.start, CalendarDate):
            return nxt.start
    return None


def _day_chain(els: list[Element], j: int, *, lists: bool = True) -> tuple[DaySet, int]:
    """Joins day words by ranges ("Mon-Thu"), and unless `lists` is off by lists ("Mon, Wed")."""
    first = els[j]
    assert isinstance(first, DaySet)
    days = list(first.days)
    plural, every = first.plural, first.every
    weak_only = first.weak
    last_single: int | None = first.days[0] if len(first.days) == 1 else None
    start, end = first.start, first.end
    parts = 1
    k = j + 1
    n = len(els)
    while k < n:
        e = els[k]
        conn: str | None = None
        nxt: Element = e
        if isinstance(e, Keyword) and e.role in ("/", ",", "and", "range") and k + 1 < n:
            conn = e.role
            nxt = els[k + 1]
        if not isinstance(nxt, DaySet) or (conn != "range" and not lists):
            break
        if conn == "range":
            if last_single is None or len(nxt.days) != 1:
                break
            span = (nxt.days[0] - last_single) % 7
            for step in range(1, span + 1):
                index = (last_single + step) % 7
                if index not in days:
                    days.append(index)
            last_single = None
        else:
            for index in nxt.days:
                if index not in days:
                    days.append(index)
            last_single = nxt.days[0] if len(nxt.days) == 1 else None
        plural = plural or nxt.plural
        every = every or nxt.every
        weak_only = weak_only and nxt.weak
        end = nxt.end
        parts += 1
        k += 2 if conn is not None else 1
    weak = weak_only and parts == 1
    return DaySet(days, plural, weak, "", start, end, every), k


def _days_as_date(chain: DaySet, today: date, next_week: bool) -> DateMention:
    first = next_occurrence(chain.days[0], today, next_week)
    consecutive = all(d == (chain.days[0] + k) % 7 for k, d in enumerate(chain.days))
    if not consecutive:
        raise AskUser(Q_OFF_ONE_SPAN)
    last = first + timedelta(days=len(chain.days) - 1)
    return DateMention(first, last if last != first else None, DAY_TITLES[chain.days[0]])


def _recurring_question(chain: DaySet, today: date) -> str:
    index = chain.days[0]
    day = DAY_FULL[index]
    example = next_occurrence(index, today, next_week=False)
    return Q_OFF_RECURRING.format(
        day=day, plural=day + "s", example=f"{MONTH_ABBR[example.month]} {example.day}"
    )


@dataclass(slots=True)
class DayGroup:
    days: list[int]
    spans: list[TimeSpan]
    times_first: bool
    # "M-F 9-3 except Wed 9-12": these days' hours replace (or, for "only until 1", trim)
    # what the groups before gave them; with no hours, the days are dropped.
    exception: bool = False


@dataclass(slots=True)
class Assembled:
    groups: list[DayGroup]
    dates: list[tuple[str, DateMention]]
    zones: list[ZoneMention]
    every: bool
    cuts: list[TimeSpan]  # "except lunch 12-12:30": cut out of every day
    instead: bool  # "Wed 1-4 instead of 9-12": the hours after "instead of" are the old ones


def assemble_groups(els: list[Element], text: str) -> Assembled:
    groups: list[DayGroup] = []
    dates: list[tuple[str, DateMention]] = []
    zones: list[ZoneMention] = []
    cuts: list[TimeSpan] = []
    every = False
    instead = False
    cutting = False  # the next hours are cut out ("except lunch 12-1", "but not 12-1")
    current: DayGroup | None = None
    marker: str | None = None
    n = len(els)
    j = 0

    def add_span(span: TimeSpan) -> None:
        nonlocal current, cutting
        if instead:
            return  # the hours being replaced: nothing to save
        if cutting:
            cuts.append(span)
            cutting = False
            return
        if current is None or (current.times_first and current.days):
            current = DayGroup([], [], times_first=True)
            groups.append(current)
        current.spans.append(span)

    while j < n:
        e = els[j]
        if isinstance(e, ZoneMention):
            zones.append(e)
        elif isinstance(e, DateMention):
            nxt = els[j + 1] if j + 1 < n else None
            after = els[j + 2] if j + 2 < n else None
            if (
                e.end is None
                and isinstance(nxt, Keyword)
                and nxt.role == "range"
                and isinstance(after, DateMention)
            ):
                end = after.end if after.end is not None else after.start
                e = DateMention(e.start, end, f"{e.raw} - {after.raw}")
                j += 2
            dates.append((marker or "plain", e))
            marker = None
        elif isinstance(e, Keyword):
            if e.role in ("start", "back", "weekof"):
                marker = e.role
            elif e.role == "from":
                if j + 1 < n and isinstance(els[j + 1], DateMention):
                    marker = "start"
            elif e.role == "range" and e.raw.lower() in UNTIL_WORDS and j + 1 < n:
                target = els[j + 1]
                if isinstance(target, DateMention):
                    marker = "until"
                elif (
                    isinstance(target, ClockTime)
                    and current is not None
                    and current.days
                    and not current.spans
                ):  # "but Thursdays only until 1": the days just named end then
                    add_span(open_span("before", target, text))
                    j += 1
            elif e.role == "instead":
                instead = True
                marker = "instead"
            elif e.role == "cut":
                cutting = True
            elif e.role in ("after", "before") and j + 1 < n:
                target = els[j + 1]
                if isinstance(target, ClockTime):
                    add_span(open_span(e.role, target, text))
                    j += 1
            elif e.role == "between" and j + 3 < n:
                a, conn, b = els[j + 1], els[j + 2], els[j + 3]
                if (
                    isinstance(a, ClockTime)
                    and isinstance(b, ClockTime)
                    and isinstance(conn, Keyword)
                    and conn.role in ("and", "range")
                ):
                    add_span(time_range(a, b, text))
                    j += 3
            elif e.role in ("except", "but") and j + 1 < n:
                target = els[j + 1]
                if isinstance(target, DaySet):
                    current = DayGroup(list(target.days), [], times_first=False, exception=True)
                    groups.append(current)
                    j += 1
                elif e.role == "except":
                    cutting = True
        elif isinstance(e, ClockTime):
            nxt = els[j + 1] if j + 1 < n else None
            after = els[j + 2] if j + 2 < n else None
            if isinstance(nxt, Keyword) and nxt.role == "range" and isinstance(after, ClockTime):
                add_span(time_range(e, after, text))
                j += 2
            elif e.bad:
                raise AskUser(Q_BAD_TIME.format(raw=e.raw))
            else:
                raise AskUser(Q_SINGLE_TIME.format(raw=e.raw))
        elif isinstance(e, TimeSpan):
            add_span(e)
        else:
            every = every or e.every
            if current is not None and current.days and current.spans and not current.times_first:
                current = None
            if current is None:
                current = DayGroup([], [], times_first=False)
                groups.append(current)
            for index in e.days:
                if index not in current.days:
                    current.days.append(index)
        j += 1
    _hours_before_exceptions(groups)
    return Assembled(groups, dates, zones, every, cuts, instead)


def _hours_before_exceptions(groups: list[DayGroup]) -> None:
    """ "M-F except Wed 8-3": the hours belong to the days before the exception, which then
    only drops Wednesday."""
    for before, group in zip(groups, groups[1:], strict=False):
        if group.exception and group.spans and not before.spans and not before.exception:
            before.spans, group.spans = group.spans, []

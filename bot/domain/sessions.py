"""Domain: dated therapy sessions from weekly slots, the note rules, SOAP trial data, digest weeks.

Pure functions of plain values and an explicit ``now``: no clock, no database, no Slack.
A weekly slot is a wall-clock promise in the school's zone; each actual date is converted on
its own, so a slot keeps its school-local time across daylight saving.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import SessionStatus

# Cancelled sessions and no-shows never need a note; the nudges use the same rule.
NOTE_STATUSES = (SessionStatus.HELD, SessionStatus.SCHEDULED)
GENERATED_PREFIXES = ("slot:", "group:")
KEY_LIMIT = 64  # sessions.session_key is String(64)
FIELD_LIMIT = 3000  # each SOAP field, as Slack's plain_text_input max_length allows


# --- sessions from slots -------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    on: date  # the school-local date
    starts_at: datetime  # aware UTC
    minutes: int


def occurrences(
    day: int, start_minute: int, end_minute: int, tz: str, start: datetime, end: datetime
) -> list[Occurrence]:
    """Each date's session of a weekly slot (school wall time) starting in ``[start, end)``."""
    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    out: list[Occurrence] = []
    d = first + timedelta(days=(day - first.weekday()) % 7)
    while d <= last:
        # Aware arithmetic with one tzinfo is wall-clock arithmetic: the offset is that date's.
        midnight = datetime.combine(d, time(0), zone)
        begins = (midnight + timedelta(minutes=start_minute)).astimezone(UTC)
        finishes = (midnight + timedelta(minutes=end_minute)).astimezone(UTC)
        if start <= begins < end:
            minutes = int((finishes - begins).total_seconds() // 60)
            out.append(Occurrence(d, begins, minutes))
        d += timedelta(days=7)
    return out


def within_hours(
    starts_at: datetime, minutes: int, tz: str, hours: Iterable[tuple[int, int, int]]
) -> bool:
    """Whether the session lies inside one of the school's windows ``(day, start, end)``."""
    local = starts_at.astimezone(ZoneInfo(tz))
    begin = local.hour * 60 + local.minute
    finish = begin + minutes
    return any(
        day == local.weekday() and a <= begin and finish <= b for day, a, b in merge_hours(hours)
    )


def merge_hours(hours: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Touching or overlapping windows of a day become one (08:30-11:30 + 11:30-15:00)."""
    out: list[tuple[int, int, int]] = []
    for day, a, b in sorted(hours):
        if out and out[-1][0] == day and a <= out[-1][2]:
            out[-1] = (day, out[-1][1], max(out[-1][2], b))
        else:
            out.append((day, a, b))
    return out


def session_key(slot_id: int, group_key: str | None, on: date) -> str:
    """One key per dated session: a group's students share it (one row each)."""
    if group_key is None:
        return f"slot:{slot_id}:{on.isoformat()}"
    key = f"group:{group_key}:{on.isoformat()}"
    if len(key) <= KEY_LIMIT:
        return key
    digest = hashlib.sha256(group_key.encode()).hexdigest()[:24]
    return f"group:{digest}:{on.isoformat()}"


def is_generated(key: str) -> bool:
    return key.startswith(GENERATED_PREFIXES)


# --- notes ---------------------------------------------------------------------------------


def needs_note(status: str, starts_at: datetime, minutes: int, now: datetime) -> bool:
    """Held, or still "scheduled" but over (nobody marked it); never cancelled or a no-show."""
    if status == SessionStatus.HELD:
        return starts_at <= now
    return status == SessionStatus.SCHEDULED and starts_at + timedelta(minutes=minutes) <= now


def note_overdue(
    status: str, starts_at: datetime, minutes: int, now: datetime, due_hours: int
) -> bool:
    """The note is owed and ``due_hours`` have passed since the session ended."""
    ended = starts_at + timedelta(minutes=minutes)
    return needs_note(status, starts_at, minutes, now) and ended + timedelta(hours=due_hours) <= now


def overdue_bound(now: datetime, due_hours: int) -> datetime:
    """Every overdue note's session started at or before this (a cheap indexed bound)."""
    return now - timedelta(hours=due_hours)


# --- SOAP trial data -----------------------------------------------------------------------

# A score as clinicians write it: "8/10", "8 of 10", "8 out of 10", "80%", optionally after
# "Goal 2:" and before "correct", then an optional cue level or comment ("with cues", "(min cues)").
_TRIAL = re.compile(
    r"^(?:goal\s*(?P<goal>\d{1,3})\s*[:.)-]?\s*)?"
    r"(?:(?P<correct>\d{1,4})\s*(?:/|of|out\s+of)\s*(?P<total>\d{1,4})(?![\d/])"
    r"|(?P<percent>\d{1,3})\s*%)"
    r"(?:\s*correct)?\.?"
    r"(?:\s*[,:;–—-]?\s*(?P<note>[(\[]?[^\W\d_].*))?$",
    re.IGNORECASE | re.DOTALL,
)
TRIAL_FORMS = "8/10, 80% or 8 of 10"


class TrialsError(ValueError):
    """Trial data that cannot be read; the message says which line and how to write it."""


@dataclass(frozen=True)
class Trial:
    goal: int
    correct: int | None  # None when only a percentage was written
    total: int | None
    percent: int
    note: str = ""  # the cue level or comment written after the score

    def line(self) -> str:
        score = (
            f"{self.percent}% correct"
            if self.correct is None
            else f"{self.correct}/{self.total} correct ({self.percent}%)"
        )
        return f"Goal {self.goal}: {score}" + (f", {self.note}" if self.note else "")


def _score_next(text: str, start: int) -> bool:
    rest = text[start : start + 40].lstrip().lower()
    return rest[:1].isdigit() or rest.startswith("goal")


def _split_trials(text: str) -> list[str]:
    """One item per line or ``;``, and per ``,`` that starts another score ("8/10, 7/10"); a comma
    inside a comment ("8/10 with cues, then faded", "(min, max cues)") stays in it."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        if ch == "\n" or (depth == 0 and (ch == ";" or (ch == "," and _score_next(text, i + 1)))):
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _note(raw: str | None) -> str:
    note = " ".join((raw or "").split())
    if len(note) >= 2 and note[0] + note[-1] in ("()", "[]"):
        note = note[1:-1].strip()
    return note


def parse_trials(text: str) -> list[Trial]:
    """One score per line (or separated by ; or ,): 8/10, 8 of 10, 80%, optionally 'Goal 2: …',
    and a trailing cue level or comment ("8/10 with cues", "8 of 10 (min cues)"). Empty -> []."""
    trials: list[Trial] = []
    for n, item in enumerate(_split_trials(text or ""), start=1):
        match = _TRIAL.match(item)
        if match is None:
            raise TrialsError(
                f"Line {n} (“{item[:30]}”) isn't a score. Write one goal per line, like "
                f"{TRIAL_FORMS}, with any cue level after it."
            )
        goal = int(match["goal"]) if match["goal"] else n
        note = _note(match["note"])
        if match["percent"] is not None:
            percent = int(match["percent"])
            if percent > 100:
                raise TrialsError(f"Line {n}: {percent}% — a percentage goes up to 100.")
            trials.append(Trial(goal, None, None, percent, note))
            continue
        correct, total = int(match["correct"]), int(match["total"])
        if total == 0 or correct > total:
            raise TrialsError(f"Line {n}: {correct}/{total} — correct must be 0 to the total.")
        trials.append(Trial(goal, correct, total, round(100 * correct / total), note))
    return trials


def objective_text(objective: str, trials: Sequence[Trial]) -> str:
    """The Objective as saved: the typed text, then one line per goal's trials."""
    lines = [t.line() for t in trials]
    typed = objective.strip()
    return "\n".join([typed, *lines] if typed else lines)


@dataclass(frozen=True)
class NoteText:
    subjective: str
    objective: str
    assessment: str
    plan: str


OBJECTIVE_MISSING = (
    "Objective is required: what you measured in the session (or fill in Trials and I'll write it)."
)


def note_from_form(
    subjective: str | None,
    objective: str | None,
    assessment: str | None,
    plan: str | None,
    trials: str | None = None,
) -> tuple[NoteText | None, dict[str, str]]:
    """The note as it would be saved, or problems by field name (validate before saving)."""
    errors: dict[str, str] = {}
    fields = {
        "subjective": (subjective or "").strip(),
        "objective": (objective or "").strip(),
        "assessment": (assessment or "").strip(),
        "plan": (plan or "").strip(),
    }
    for name, value in fields.items():
        if len(value) > FIELD_LIMIT:
            errors[name] = (
                f"Please keep this under {FIELD_LIMIT:,} characters ({len(value):,} now)."
            )
    parsed: list[Trial] = []
    try:
        parsed = parse_trials(trials or "")
    except TrialsError as exc:
        errors["trials"] = str(exc)
    if "objective" not in errors:
        built = objective_text(fields["objective"], parsed)
        if not built:
            errors["objective"] = OBJECTIVE_MISSING
        elif len(built) > FIELD_LIMIT:
            errors["objective"] = (
                f"With the trial lines this is {len(built):,} characters; the limit is "
                f"{FIELD_LIMIT:,}."
            )
        fields["objective"] = built
    if errors:
        return None, errors
    return NoteText(**fields), {}


# --- the weekly digest ---------------------------------------------------------------------

DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 8


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_due(now: datetime, tz: str) -> bool:
    """Monday from 08:00 in the manager's zone (a missed run catches up later that Monday)."""
    local = now.astimezone(ZoneInfo(tz))
    return local.weekday() == DIGEST_WEEKDAY and local.hour >= DIGEST_HOUR


def digest_key(manager_id: str, now: datetime, tz: str) -> str:
    return f"digest:{manager_id}:{iso_week(now.astimezone(ZoneInfo(tz)).date())}"

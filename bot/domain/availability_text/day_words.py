"""Domain: reading one word as days (names, abbreviations, compact forms like MWF, typos)."""

from __future__ import annotations

from bot.domain.availability_text.vocabulary import (
    COMPACT_LOWER_RE,
    COMPACT_PART_RE,
    COMPACT_PARTS,
    COMPACT_RE,
    DAY_WORDS,
    FUZZY_TARGETS,
    NOT_COMPACT,
    NOT_DAYS,
    SINGLE_LETTER_DAYS,
)


def day_word(w: str, lw: str) -> tuple[list[int], bool, bool, bool] | None:
    """(days, plural, weak, every) for one word that names days, else None."""
    known = DAY_WORDS.get(lw[:-2] if lw.endswith("'s") else lw)
    if known is not None:
        return [known[0]], known[1], False, False
    if lw in ("weekday", "weekdays"):
        return [0, 1, 2, 3, 4], True, False, False
    if lw in ("weekend", "weekends"):
        return [5, 6], True, False, False
    if lw in ("daily", "everyday"):
        return [0, 1, 2, 3, 4], True, False, True
    if len(w) == 1:
        index = SINGLE_LETTER_DAYS.get(lw)
        if index is None:
            return None
        return [index], False, not w.isupper(), False
    compact = _compact_days(w, lw)
    if compact is not None:
        return compact, False, False, False
    return None


def _compact_days(w: str, lw: str) -> list[int] | None:
    """ "MWF", "TTh", "TuTh", "MTWThF", "MTWRF"; lower-case only when unmistakable ("mwf")."""
    if w in NOT_COMPACT:
        return None
    if COMPACT_RE.fullmatch(w) is None:
        if COMPACT_LOWER_RE.fullmatch(lw) is None or len(w) < 3:
            return None
        if "w" not in lw and "th" not in lw:
            return None  # "tuft", "ftt": letters that merely look like days
    days: list[int] = []
    for part in COMPACT_PART_RE.findall(w):
        index = COMPACT_PARTS[part.lower()]
        # In "MTWTF" the second T follows Wednesday, so it is Thursday.
        if part.lower() == "t" and days and (days[-1] >= 2 or 1 in days):
            index = 3
        if index not in days:
            days.append(index)
    return days if len(days) >= 2 else None


def fuzzy_day(lw: str) -> tuple[int, bool] | None:
    """A misspelt full day name ("Tuseday", "thrusday", "wendesday", "firday")."""
    if len(lw) < 5 or lw in NOT_DAYS or not lw.isalpha():
        return None
    limit = 2 if len(lw) >= 6 else 1
    best: tuple[int, bool] | None = None
    best_distance = limit + 1
    tie = False
    for target, index in FUZZY_TARGETS:
        if target[0] != lw[0] or abs(len(target) - len(lw)) > limit:
            continue
        distance = _osa_distance(lw, target, limit)
        # Two edits only for words that still end like a day name ("firday"), never "monkey".
        if distance == 2 and not lw.endswith(("day", "days")):
            continue
        if distance < best_distance:
            best, best_distance, tie = (index, target.endswith("s")), distance, False
        elif distance == best_distance and best is not None and best[0] != index:
            tie = True
    return None if tie else best


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance (a swap of neighbours counts once), capped."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]

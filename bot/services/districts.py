"""Services: the one reader of ``district=…`` for /match, /caseload, /deadlines, /minutes and the
CLI: an id or a name (a word of it will do) becomes the district, and text that names none, or
several, gets the close matches and the districts the manager serves, so the next try works.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.labels import STATE_NAMES
from bot.domain.mrkdwn import code, escape
from bot.services.errors import InvalidInput, NotFound
from storage import models as m
from storage.queries import manager_district_scope

CLOSE_LISTED = 5
YOURS_LISTED = 10


def find_district(s: Session, text: str, slack_user_id: str | None = None) -> m.District:
    """The district ``text`` names. ``NotFound`` (none) or ``InvalidInput`` (several) name the
    close matches and, for a manager (``slack_user_id``), the districts they serve."""
    districts = list(s.scalars(select(m.District).order_by(m.District.name, m.District.id)))
    needle = text.strip().lower()
    for d in districts:
        if d.id.lower() == needle or d.name.lower() == needle:
            return d
    hits = [d for d in districts if needle and needle in d.name.lower()]
    if len(hits) == 1:
        return hits[0]
    yours = _yours(s, slack_user_id, districts)
    if len(hits) > 1:
        raise InvalidInput(
            f"{code(text)} matches several districts: {listed(hits[:CLOSE_LISTED])}. "
            f"Use the id, e.g. {code('district=' + hits[0].id)}.{yours}"
        )
    close = close_matches(needle, districts)
    hint = f" Did you mean {listed(close)}?" if close else ""
    raise NotFound(f"I don't know a district called {code(text)}.{hint}{yours}")


def listed(districts: Iterable[m.District]) -> str:
    """``Anchorage School District (`anc`), Mesa Public Schools (`mesa`)``, escaped."""
    return ", ".join(f"{escape(d.name)} ({code(d.id)})" for d in districts)


def close_matches(needle: str, districts: Sequence[m.District]) -> list[m.District]:
    """Districts in the state ``needle`` names (``texas``, ``TX``), then the closest ids and
    names (difflib), at most ``CLOSE_LISTED``."""
    by_id = {d.id.lower(): d for d in districts}
    by_name = {d.name.lower(): d for d in districts}
    states = {code.lower() for code in STATE_NAMES} | {n.lower() for n in STATE_NAMES.values()}
    found: list[m.District] = []
    if needle in states:
        found += [
            d
            for d in districts
            if needle in (d.state.lower(), STATE_NAMES.get(d.state.upper(), "").lower())
        ]
    for word in difflib.get_close_matches(needle, list(by_id), n=CLOSE_LISTED, cutoff=0.6):
        found.append(by_id[word])
    for word in difflib.get_close_matches(needle, list(by_name), n=CLOSE_LISTED, cutoff=0.5):
        found.append(by_name[word])
    words = {w: d for d in districts for w in d.name.lower().split() if len(w) > 2}
    for word in difflib.get_close_matches(needle, list(words), n=CLOSE_LISTED, cutoff=0.75):
        found.append(words[word])
    unique = list({d.id: d for d in found}.values())
    return unique[:CLOSE_LISTED]


def _yours(s: Session, slack_user_id: str | None, districts: Sequence[m.District]) -> str:
    """ " Your districts: …" for a manager; nothing for anyone else."""
    if slack_user_id is None:
        return ""
    scope = manager_district_scope(s, slack_user_id)
    if scope is not None and not scope:
        return ""  # not a manager: the command says so itself
    if scope is None:
        head = " You serve every district"
        mine = list(districts)
    else:
        head = " Your districts"
        mine = [d for d in districts if d.id in scope]
    more = len(mine) - YOURS_LISTED
    tail = f" and {more} more" if more > 0 else ""
    return f"{head}: {listed(mine[:YOURS_LISTED])}{tail}." if mine else ""

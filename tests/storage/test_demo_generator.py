"""Tests of the demo generators (demo.roster, demo.synthetic): the rosters they write follow
the roster format (README: Importing a roster) and the product's rules.

The demo roster is what the console loads and what people judge the bot by, so besides the format it
must tell its stories (an expiring licence, reviews due this week, overdue SOAP notes) whatever
`today` is, and `demo/roster/` must be exactly what the generator writes for ANCHOR.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from demo.generate import ANCHOR, write_demo_roster, write_synthetic_roster

Table = list[dict[str, str]]

# Column lists copied from the roster format, not from the generator, so that a drift shows.
HEADERS = {
    "districts.csv": ["district_id", "name", "state", "timezone"],
    "schools.csv": ["school_id", "district_id", "name", "timezone"],
    "school_hours.csv": ["school_id", "day", "start", "end"],
    "providers.csv": [
        "provider_id",
        "name",
        "email",
        "slack_user_id",
        "discipline",
        "home_state",
        "timezone",
        "weekly_hours",
    ],
    "licenses.csv": ["provider_id", "state", "expires_on", "license_number"],
    "managers.csv": ["manager_id", "name", "email", "slack_user_id", "district_ids"],
    "students.csv": [
        "student_id",
        "school_id",
        "first_name",
        "last_name",
        "grade",
        "annual_review_due",
        "triennial_due",
    ],
    "services.csv": [
        "student_id",
        "service",
        "sessions_per_week",
        "session_minutes",
        "group_ok",
        "minutes_per_week",
        "minutes_per_month",
        "starts_on",
        "ends_on",
    ],
    "availability.csv": ["provider_id", "day", "start", "end"],
    "assignments.csv": ["student_id", "service", "provider_id"],
    "calendar.csv": ["district_id", "school_id", "start", "end", "kind", "ends_at"],
    "sessions.csv": [
        "session_id",
        "provider_id",
        "student_id",
        "service",
        "starts_at",
        "minutes",
        "status",
        "note_done_at",
    ],
}
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SERVICES = {"slp", "ot", "pt", "psych", "mh"}
STATUSES = {"scheduled", "held", "cancelled", "no_show"}
BOOLEANS = {"true", "false", "yes", "no", "1", "0"}
GRADES = {"K", *(str(g) for g in range(1, 13))}
USPS = {
    *("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN"),
    *("IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH"),
    *("NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT"),
    *("VT", "VA", "WA", "WV", "WI", "WY"),
}
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$")
SLACK_ID = re.compile(r"^U[A-Z0-9]{8,}$")

DEMO_TODAYS = [
    ANCHOR,
    date(2026, 11, 4),  # the window spans the end of daylight saving (Nov 1)
    date(2027, 3, 10),  # ... and its start (Mar 14): Arizona and Anchorage drift apart by an hour
    date(2027, 6, 19),  # a Saturday in summer
]


def load(folder: Path) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name, header in HEADERS.items():
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == header, name
            tables[name[:-4]] = list(reader)
    return tables


def minutes(text: str) -> int:
    assert HHMM.match(text), text
    return int(text[:2]) * 60 + int(text[3:])


def day(text: str) -> date:
    assert DAY.match(text), text
    return date.fromisoformat(text)


def stamp(text: str) -> datetime:
    assert STAMP.match(text), text
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def unique(rows: Table, *columns: str) -> dict[tuple[str, ...], dict[str, str]]:
    keyed = {tuple(row[c] for c in columns): row for row in rows}
    assert len(keyed) == len(rows), f"duplicate {columns}"
    return keyed


def check_roster(t: dict[str, Table]) -> None:
    """The roster format: formats, unique ids, every reference resolves."""
    districts = unique(t["districts"], "district_id")
    schools = unique(t["schools"], "school_id")
    providers = unique(t["providers"], "provider_id")
    students = unique(t["students"], "student_id")
    services = unique(t["services"], "student_id", "service")
    unique(t["managers"], "manager_id")
    unique(t["licenses"], "provider_id", "state")
    unique(t["assignments"], "student_id", "service")
    unique(t["sessions"], "session_id", "student_id")

    for row in t["districts"]:
        assert row["name"] and row["state"] in USPS
        ZoneInfo(row["timezone"])
    for row in t["schools"]:
        assert (row["district_id"],) in districts and row["name"]
        if row["timezone"]:
            ZoneInfo(row["timezone"])
    for row in t["school_hours"]:
        assert (row["school_id"],) in schools
        assert row["day"] in DAYS and minutes(row["start"]) < minutes(row["end"])
    for row in t["availability"]:
        assert (row["provider_id"],) in providers
        assert row["day"] in DAYS and minutes(row["start"]) < minutes(row["end"])
    for row in t["providers"]:
        assert row["discipline"] in SERVICES and row["home_state"] in USPS
        assert "@" in row["email"] and SLACK_ID.match(row["slack_user_id"])
        assert 0 < float(row["weekly_hours"]) <= 40
        ZoneInfo(row["timezone"])
    for row in t["licenses"]:
        assert (row["provider_id"],) in providers and row["state"] in USPS
        assert row["license_number"]
        day(row["expires_on"])
    for row in t["managers"]:
        assert "@" in row["email"] and SLACK_ID.match(row["slack_user_id"])
    for row in t["students"]:
        assert (row["school_id"],) in schools and row["first_name"] and row["last_name"]
        assert row["grade"] in GRADES
        day(row["annual_review_due"])
        if row["triennial_due"]:
            day(row["triennial_due"])
    for row in t["services"]:
        assert (row["student_id"],) in students and row["service"] in SERVICES
        assert 1 <= int(row["sessions_per_week"]) <= 5 and int(row["session_minutes"]) > 0
        assert row["group_ok"] in BOOLEANS
    for row in t["assignments"]:
        assert (row["student_id"], row["service"]) in services
        assert (row["provider_id"],) in providers
    for row in t["sessions"]:
        assert (row["student_id"], row["service"]) in services
        assert (row["provider_id"],) in providers
        assert row["status"] in STATUSES and int(row["minutes"]) > 0
        stamp(row["starts_at"])
        if row["note_done_at"]:
            assert stamp(row["note_done_at"]) > stamp(row["starts_at"])


class Roster:
    """The loaded tables with the lookups the product rules need."""

    def __init__(self, t: dict[str, Table]) -> None:
        self.t = t
        district = {d["district_id"]: d for d in t["districts"]}
        self.school_state = {
            s["school_id"]: district[s["district_id"]]["state"] for s in t["schools"]
        }
        self.school_zone = {
            s["school_id"]: ZoneInfo(s["timezone"] or district[s["district_id"]]["timezone"])
            for s in t["schools"]
        }
        self.school_of = {s["student_id"]: s["school_id"] for s in t["students"]}
        self.providers = {p["provider_id"]: p for p in t["providers"]}
        self.licences: dict[str, dict[str, date]] = defaultdict(dict)
        for row in t["licenses"]:
            self.licences[row["provider_id"]][row["state"]] = date.fromisoformat(row["expires_on"])
        self.hours: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for row in t["school_hours"]:
            self.hours[row["school_id"], row["day"]].append(
                (minutes(row["start"]), minutes(row["end"]))
            )
        self.available: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for row in t["availability"]:
            self.available[row["provider_id"], row["day"]].append(
                (minutes(row["start"]), minutes(row["end"]))
            )
        self.services = {(s["student_id"], s["service"]): s for s in t["services"]}

    def may_serve(self, provider_id: str, student_id: str, service: str, on: date) -> bool:
        provider = self.providers[provider_id]
        held = self.licences[provider_id]
        states = {provider["home_state"], self.school_state[self.school_of[student_id]]}
        return provider["discipline"] == service and all(held.get(s, on) > on for s in states)

    @staticmethod
    def inside(windows: list[tuple[int, int]], local: datetime, length: int) -> bool:
        start = local.hour * 60 + local.minute
        return any(a <= start and start + length <= b for a, b in windows)


def check_rules(t: dict[str, Table], today: date) -> None:
    """The roster format's matching rules hold for the caseload and every session."""
    r = Roster(t)
    for row in t["assignments"]:
        assert r.may_serve(row["provider_id"], row["student_id"], row["service"], today), row
    assigned = {(a["student_id"], a["service"]): a["provider_id"] for a in t["assignments"]}

    by_id: dict[str, Table] = defaultdict(list)
    for row in t["sessions"]:
        by_id[row["session_id"]].append(row)
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for session_id, rows in by_id.items():
        first = rows[0]
        begin, length = stamp(first["starts_at"]), int(first["minutes"])
        school = r.school_of[first["student_id"]]
        assert 1 <= len(rows) <= 4, session_id
        for row in rows:
            key = (row["student_id"], row["service"])
            assert assigned.get(key) == row["provider_id"], row
            assert int(r.services[key]["session_minutes"]) == length, row
            assert (row["provider_id"], row["service"], row["starts_at"], row["minutes"]) == (
                first["provider_id"],
                first["service"],
                first["starts_at"],
                first["minutes"],
            )
            assert r.school_of[row["student_id"]] == school, "a group shares one school"
            if len(rows) > 1:
                assert r.services[key]["group_ok"] == "true", row
        local = begin.astimezone(r.school_zone[school])
        assert r.inside(r.hours[school, DAYS[local.weekday()]], local, length), first
        provider = r.providers[first["provider_id"]]
        there = begin.astimezone(ZoneInfo(provider["timezone"]))
        windows = r.available[provider["provider_id"], DAYS[there.weekday()]]
        assert r.inside(windows, there, length), first
        assert r.may_serve(
            provider["provider_id"], first["student_id"], first["service"], local.date()
        )
        spans[provider["provider_id"]].append((begin, begin + timedelta(minutes=length)))

    for provider_id, taken in spans.items():
        taken.sort()
        for (_, end), (begin, _) in zip(taken, taken[1:], strict=False):
            assert end <= begin, f"{provider_id} is double-booked at {begin}"
        week_minutes: dict[tuple[int, int], int] = defaultdict(int)
        for begin, end in taken:
            week_minutes[begin.isocalendar()[:2]] += int((end - begin).total_seconds()) // 60
        cap = float(r.providers[provider_id]["weekly_hours"]) * 60
        assert max(week_minutes.values()) <= cap, provider_id

    days_used: dict[tuple[str, str, tuple[int, int]], list[date]] = defaultdict(list)
    for row in t["sessions"]:
        local = stamp(row["starts_at"]).astimezone(r.school_zone[r.school_of[row["student_id"]]])
        days_used[row["student_id"], row["service"], local.isocalendar()[:2]].append(local.date())
    for key, dates in days_used.items():
        assert len(dates) == len(set(dates)), f"two sessions on one day: {key}"


@pytest.fixture(scope="module", params=DEMO_TODAYS, ids=str)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    today: date = request.param
    folder = tmp_path_factory.mktemp(f"demo-{today}")
    write_demo_roster(folder, today)
    return today, load(folder)


def test_demo_roster_follows_the_format(demo) -> None:
    _, tables = demo
    check_roster(tables)
    assert len(tables["districts"]) == 3 and len(tables["providers"]) >= 12
    assert {d["state"] for d in tables["districts"]} == {"AK", "AZ", "TX"}
    assert [m["slack_user_id"] for m in tables["managers"]] == [
        "U0DEMOM01",
        "U0DEMOM02",
        "U0DEMOM03",
    ]
    assert any(not s["timezone"] for s in tables["schools"]), "a school inherits its zone"


def test_demo_roster_keeps_the_matching_rules(demo) -> None:
    today, tables = demo
    check_rules(tables, today)


def test_demo_roster_tells_its_stories(demo) -> None:
    today, t = demo
    expires = [date.fromisoformat(row["expires_on"]) for row in t["licenses"]]
    assert any(today < e <= today + timedelta(days=7) for e in expires)
    assert any(today + timedelta(days=7) < e <= today + timedelta(days=30) for e in expires)
    assert any(e <= today for e in expires)

    annual = [date.fromisoformat(s["annual_review_due"]) for s in t["students"]]
    assert any(today <= d <= today + timedelta(days=1) for d in annual)
    assert sum(today <= d <= today + timedelta(days=7) for d in annual) >= 3
    assert any(d < today for d in annual)
    assert 0.3 < sum(bool(s["triennial_due"]) for s in t["students"]) / len(t["students"]) < 0.7

    now = datetime.combine(today, time(), UTC)
    starts = {row["session_id"]: stamp(row["starts_at"]) for row in t["sessions"]}
    overdue = [
        row
        for row in t["sessions"]
        if row["status"] == "held"
        and not row["note_done_at"]
        and starts[row["session_id"]] < now - timedelta(hours=48)
    ]
    assert len(overdue) >= 3
    notes = [stamp(row["note_done_at"]) for row in t["sessions"] if row["note_done_at"]]
    assert notes and max(notes) < now, "no note is written after today began"
    statuses = [row["status"] for row in t["sessions"] if starts[row["session_id"]] < now]
    assert statuses.count("held") > len(statuses) / 2
    assert "cancelled" in statuses and "no_show" in statuses
    assert all(
        row["status"] == "scheduled" for row in t["sessions"] if starts[row["session_id"]] >= now
    )
    assert any(now < s < now + timedelta(days=8) for s in starts.values()), "next week's sessions"
    assert min(starts.values()) >= now - timedelta(days=15)
    sizes = defaultdict(int)
    for row in t["sessions"]:
        sizes[row["session_id"]] += 1
    assert any(n > 1 for n in sizes.values()), "a group session"

    assigned = {a["student_id"] for a in t["assignments"]}
    assert 0.25 < len(assigned) / len(t["students"]) < 0.45
    assert assigned >= {row["student_id"] for row in t["sessions"]}


def test_demo_roster_leaves_anchorage_ot_without_a_licensed_provider(demo) -> None:
    today, t = demo
    r = Roster(t)
    anchorage_ot = [
        s
        for s in t["services"]
        if s["service"] == "ot" and r.school_state[r.school_of[s["student_id"]]] == "AK"
    ]
    assert anchorage_ot
    for service in anchorage_ot:
        assert not any(r.may_serve(p, service["student_id"], "ot", today) for p in r.providers), (
            service
        )


def test_shipped_demo_roster_is_fresh(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "demo" / "roster"
    write_demo_roster(tmp_path, ANCHOR)
    for name in HEADERS:
        assert (shipped / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"demo/roster/{name} is stale: run python -m demo.generate demo demo/roster"
        )


def test_demo_generation_is_deterministic(tmp_path: Path) -> None:
    write_demo_roster(tmp_path / "a", date(2027, 1, 13))
    write_demo_roster(tmp_path / "b", date(2027, 1, 13))
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_synthetic_roster_is_deterministic_and_valid(tmp_path: Path) -> None:
    today = date(2027, 2, 3)
    for name in ("a", "b"):
        write_synthetic_roster(tmp_path / name, students=300, seed=7, today=today)
    write_synthetic_roster(tmp_path / "c", students=300, seed=8, today=today)
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "students.csv").read_bytes() != (
        tmp_path / "c" / "students.csv"
    ).read_bytes()

    t = load(tmp_path / "a")
    check_roster(t)
    assert len(t["students"]) == 300 and len(t["providers"]) == 40
    assert t["assignments"] == [] and t["sessions"] == []
    r = Roster(t)
    wanted = [(s["student_id"], s["service"]) for s in t["services"]]
    covered = sum(
        any(r.may_serve(p, student, service, today) for p in r.providers)
        for student, service in wanted
    )
    assert 0.8 < covered / len(wanted) <= 1


def test_synthetic_roster_with_sessions(tmp_path: Path) -> None:
    today = date(2026, 12, 2)
    write_synthetic_roster(
        tmp_path, students=300, districts=3, seed=3, today=today, sessions_per_student=4
    )
    t = load(tmp_path)
    check_roster(t)
    r = Roster(t)
    assert len(t["sessions"]) == 300 * 4
    assert {(a["student_id"], a["service"]) for a in t["assignments"]} == set(r.services)
    for row in t["assignments"]:
        assert r.may_serve(row["provider_id"], row["student_id"], row["service"], today), row
    assigned = {(a["student_id"], a["service"]): a["provider_id"] for a in t["assignments"]}
    now = datetime.combine(today, time(), UTC)
    for row in t["sessions"]:
        assert assigned[row["student_id"], row["service"]] == row["provider_id"]
        begin = stamp(row["starts_at"])
        assert begin < now
        school = r.school_of[row["student_id"]]
        local = begin.astimezone(r.school_zone[school])
        assert r.inside(r.hours[school, DAYS[local.weekday()]], local, int(row["minutes"]))
    held = [row for row in t["sessions"] if row["status"] == "held"]
    assert len(held) > 0.8 * len(t["sessions"])
    assert any(not row["note_done_at"] for row in held)

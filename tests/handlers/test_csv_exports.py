"""Handlers: every CSV the bot hands a manager is safe to open in a spreadsheet: a roster name
that starts with = + - @ arrives with a leading ', so it is shown as text, never run.

The exports: the proposal CSV attached to a large /match (and to a match run from Home), and
the monthly minutes report (tested with the report service).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.deps import Deps
from devtools.local_slack import LocalSlack
from handlers.match_blocks import MAX_PROVIDER_SECTIONS
from tests.services.test_matching import AV, LIC, SV, load
from tests.support.app_driver import Driver

N = MAX_PROVIDER_SECTIONS + 1  # one more provider than a message shows
RISKY = {"P1": "=1+2", "P2": "+1", "P3": "-1", "P4": "@SUM(A1)"}
SCHOOL = '=HYPERLINK(""http://x"",""y"")'  # as the roster file spells it


def roster(deps: Deps, tmp_path: Path) -> None:
    providers = "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
    for i in range(1, N + 1):
        name = RISKY.get(f"P{i}", f"Pat Number{i}")
        providers += f"P{i},{name},p{i}@example.org,U0P{i},slp,AK,America/Anchorage,0.5\n"
    load(
        deps,
        tmp_path,
        providers_csv=providers,
        schools_csv=f'school_id,district_id,name,timezone\nSCH1,anc,"{SCHOOL}",\n',
        school_hours_csv="school_id,day,start,end\nSCH1,tue,08:30,15:00\n",
        licenses_csv=LIC + "".join(f"P{i},AK,2028-06-30,AK-{i}\n" for i in range(1, N + 1)),
        students_csv="student_id,school_id,first_name,last_name,grade,annual_review_due,"
        "triennial_due\n"
        + "".join(f"S{i},SCH1,Kid,Number{i},3,2027-05-01,\n" for i in range(1, N + 1)),
        services_csv=SV + "".join(f"S{i},slp,1,30,no\n" for i in range(1, N + 1)),
        availability_csv=AV + "".join(f"P{i},tue,08:30,15:00\n" for i in range(1, N + 1)),
        assignments_csv="student_id,service,provider_id\n",
        calendar_csv="district_id,school_id,start,end,kind,ends_at\n",
    )


def test_the_proposal_csv_shows_formula_like_names_as_text(
    deps: Deps, tmp_path: Path, slack: LocalSlack
) -> None:
    roster(deps, tmp_path)
    slack.clear()
    said = Driver(deps, slack).slash("U0M1", "/match", "district=anc").said()
    assert "the full proposal is in the CSV" in said
    [upload] = slack.calls_to("file_upload")
    assert upload.params["filename"].startswith("proposal-anc-")
    rows = list(csv.DictReader(io.StringIO(upload.params["content"].decode())))
    assert len({r["provider_id"] for r in rows}) == N
    names = {r["provider_id"]: r["provider"] for r in rows}
    for pid, name in RISKY.items():
        assert names[pid] == "'" + name
    assert names["P5"] == "Pat Number5"
    assert {r["school"] for r in rows} == {'\'=HYPERLINK("http://x","y")'}
    cells = [c for r in rows for c in r.values()]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]

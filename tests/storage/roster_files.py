"""Test helper: a small, valid roster folder that tests break one way at a time."""

from __future__ import annotations

from pathlib import Path

VALID: dict[str, str] = {
    "districts.csv": "district_id,name,state,timezone\n"
    "anc,Anchorage School District,AK,America/Anchorage\n"
    "mesa,Mesa Public Schools,AZ,America/Phoenix\n",
    "schools.csv": "school_id,district_id,name,timezone\n"
    "SCH1,anc,Birchwood Elementary,\n"
    "SCH2,mesa,Saguaro Middle,America/Phoenix\n",
    "school_hours.csv": "school_id,day,start,end\n"
    "SCH1,mon,08:30,11:30\nSCH1,mon,12:15,15:00\nSCH1,tue,08:30,15:00\n"
    "SCH2,wed,08:00,13:00\n",
    "providers.csv": "provider_id,name,email,slack_user_id,discipline,home_state,timezone,"
    "weekly_hours\n"
    "P1,Ana Reyes,ana@example.org,U0P1,slp,CA,America/Los_Angeles,20\n"
    "P2,Ben Ko,ben@example.org,U0P2,ot,AK,America/Anchorage,12.5\n",
    "licenses.csv": "provider_id,state,expires_on,license_number\n"
    "P1,CA,2027-06-30,CA-1\nP1,AK,2027-06-30,AK-1\nP2,AK,2026-12-20,AK-2\n",
    "managers.csv": "manager_id,name,email,slack_user_id\nM1,Mia Park,mia@example.org,U0M1\n",
    "students.csv": "student_id,school_id,first_name,last_name,grade,annual_review_due,"
    "triennial_due\n"
    "S1,SCH1,Tala,Evans,3,2027-01-15,2028-09-01\nS2,SCH1,Noah,Lee,K,2026-12-05,\n",
    "services.csv": "student_id,service,sessions_per_week,session_minutes,group_ok\n"
    "S1,slp,2,30,true\nS2,ot,1,45,no\n",
    "availability.csv": "provider_id,day,start,end\nP1,tue,08:00,11:00\nP2,mon,09:00,12:00\n",
    "assignments.csv": "student_id,service,provider_id\nS1,slp,P1\n",
    "calendar.csv": "district_id,school_id,start,end,kind,ends_at\n"
    "anc,,2026-12-21,2027-01-01,closed,\n"
    ",SCH2,2026-12-02,2026-12-02,early_release,12:00\n",
    "sessions.csv": "session_id,provider_id,student_id,service,starts_at,minutes,status,"
    "note_done_at\n"
    "X1,P1,S1,slp,2026-11-24T17:30:00+00:00,30,held,\n"
    "X2,P1,S1,slp,2026-11-26T17:30:00-00:00,30,held,2026-11-26T20:00:00+00:00\n",
}


def write_roster(folder: Path, **overrides: str | None) -> Path:
    """Write the valid roster, with ``name_csv="..."`` replacing a file and None removing it."""
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(VALID)
    for key, value in overrides.items():
        name = key.replace("_csv", ".csv")
        if value is None:
            files.pop(name, None)
        else:
            files[name] = value
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder

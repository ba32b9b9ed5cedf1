"""Handlers, through the real app: a manager scoped to one district (demo roster: M02 serves
Anchorage; M01 every district; P02 serves Anchorage and Pflugerville, P04 only Mesa) sees
/caseload, /deadlines, /minutes, the Service log CSV button, the App Home and /soap history
only for their districts. Buttons and commands naming an object that does not exist get the
same sentence as one that is not the asker's, and every refusal writes one audit row."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.deps import Deps
from bot.services.caseload import PROVIDER_REFUSED
from bot.services.makeups import MAKEUP_NOT_YOURS
from bot.services.nudges.buttons import NOT_YOURS_OR_GONE
from bot.services.scope import AVAILABILITY_REFUSED, OUTSIDE
from bot.services.sessions import MARK_NOT_YOURS
from bot.services.soap import HISTORY_NOT_YOURS, NOT_YOURS, NOTE_NOT_YOURS
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body
from storage import models as m
from tests.support.app_driver import Driver, Reply

M_ANC, M_ALL = "U0DEMOM02", "U0DEMOM01"
P01, P02, P04 = "U0DEMOP01", "U0DEMOP02", "U0DEMOP04"
OTHER_DISTRICTS = ("Mesa", "Pflugerville")
BATCH = "5b0c6c1e-8f5e-4f57-9a51-3f3c2a1d0b01"


def denials(deps: Deps) -> list[tuple[str, str, str, str]]:
    with deps.session_factory() as s:
        rows = s.scalars(
            select(m.AuditLog).where(m.AuditLog.action.like("%denied")).order_by(m.AuditLog.id)
        ).all()
        return [(r.actor, r.action, r.subject_id, (r.after or {}).get("reason", "")) for r in rows]


def school_names(deps: Deps, district_id: str) -> list[str]:
    with deps.session_factory() as s:
        return list(s.scalars(select(m.School.name).where(m.School.district_id == district_id)))


def mentions_district(reply: Reply, deps: Deps, district_id: str) -> bool:
    text = reply.said()
    names = school_names(deps, district_id)
    district = {"mesa": "Mesa", "pflugerville": "Pflugerville", "anc": "Anchorage"}[district_id]
    return district in text or any(n in text for n in names)


def a_student(deps: Deps, district_id: str) -> str:
    with deps.session_factory() as s:
        return str(
            s.scalars(
                select(m.Student.id)
                .join(m.School, m.School.id == m.Student.school_id)
                .where(m.School.district_id == district_id)
                .order_by(m.Student.id)
            ).first()
        )


def a_session(deps: Deps, provider_id: str) -> int:
    with deps.session_factory() as s:
        sid = s.scalars(
            select(m.TherapySession.id)
            .where(m.TherapySession.provider_id == provider_id)
            .order_by(m.TherapySession.id)
        ).first()
        assert sid is not None
        return int(sid)


# --- /caseload -------------------------------------------------------------------------------


def test_caseload_of_a_provider_outside_the_managers_districts_is_refused(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    refused = driver.slash(M_ANC, "/caseload", f"<@{P04}|soledad>")
    assert PROVIDER_REFUSED in refused.said()
    assert "Red Mountain" not in refused.said() and "S" + "1" not in refused.ack
    # Someone who is no provider at all gets the same sentence: Slack ids can't be probed.
    nobody = driver.slash(M_ANC, "/caseload", "@U0NOBODY9")
    assert PROVIDER_REFUSED in nobody.said()
    assert denials(demo_deps) == [
        ("manager:M02", "caseload.view_denied", "P04", "outside_district_scope"),
        ("manager:M02", "caseload.view_denied", "U0NOBODY9", "not_found"),
    ]
    shown = driver.slash(M_ALL, "/caseload", f"<@{P04}>")  # an organisation admin
    assert "Caseload of Soledad" in shown.said() and mentions_district(shown, demo_deps, "mesa")
    assert len(denials(demo_deps)) == 2


def test_caseload_of_a_provider_in_two_districts_shows_only_the_managers(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    scoped = driver.slash(M_ANC, "/caseload", f"<@{P02}>")
    assert mentions_district(scoped, demo_deps, "anc")
    assert not mentions_district(scoped, demo_deps, "pflugerville")
    assert "1 student" in scoped.said()  # P02 serves 1 in Anchorage, 3 in Pflugerville
    everyone = driver.slash(M_ALL, "/caseload", f"<@{P02}>")
    assert mentions_district(everyone, demo_deps, "pflugerville")
    assert "4 students" in everyone.said()
    assert denials(demo_deps) == []


def test_caseload_by_district_and_overall_is_scoped(demo_deps: Deps, slack: LocalSlack) -> None:
    driver = Driver(demo_deps, slack)
    refused = driver.slash(M_ANC, "/caseload", "district=mesa")
    assert OUTSIDE in refused.said()
    assert "Soledad" not in refused.said()
    assert denials(demo_deps) == [
        ("manager:M02", "caseload.view_denied", "mesa", "outside_district_scope")
    ]
    overall = driver.slash(M_ANC, "/caseload")
    assert "Anchorage" in overall.said()
    assert not any(d in overall.said() for d in OTHER_DISTRICTS)
    admin = driver.slash(M_ALL, "/caseload")
    assert all(d in admin.said() for d in OTHER_DISTRICTS)
    assert "Soledad" in driver.slash(M_ALL, "/caseload", "district=mesa").said()


# --- /deadlines ------------------------------------------------------------------------------


def test_deadlines_are_scoped_to_the_managers_districts(demo_deps: Deps, slack: LocalSlack) -> None:
    driver = Driver(demo_deps, slack)
    refused = driver.slash(M_ANC, "/deadlines", "district=mesa days=365")
    assert OUTSIDE in refused.said()
    assert not mentions_district(refused, demo_deps, "mesa")
    assert denials(demo_deps) == [
        ("manager:M02", "deadlines.view_denied", "mesa", "outside_district_scope")
    ]
    scoped = driver.slash(M_ANC, "/deadlines", "days=365")
    assert mentions_district(scoped, demo_deps, "anc")
    assert not mentions_district(scoped, demo_deps, "mesa")
    assert not mentions_district(scoped, demo_deps, "pflugerville")
    admin = driver.slash(M_ALL, "/deadlines", "days=365")
    assert mentions_district(admin, demo_deps, "mesa")
    named = driver.slash(M_ALL, "/deadlines", "district=mesa days=365")
    assert mentions_district(named, demo_deps, "mesa")
    assert len(denials(demo_deps)) == 1


# --- /minutes and the Service log CSV button ---------------------------------------------------


def test_minutes_of_another_district_are_refused_and_audited(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    refused = driver.slash(M_ANC, "/minutes", "district=mesa")
    assert OUTSIDE in refused.said()
    csv = driver.press(M_ANC, "home_minutes_csv", "mesa", from_home=True)
    assert OUTSIDE in csv.said()
    assert not [c for c in csv.methods() if c.startswith("files.")]
    assert denials(demo_deps) == [
        ("manager:M02", "minutes.view_denied", "mesa", "outside_district_scope"),
        ("manager:M02", "minutes.report_denied", "mesa", "outside_district_scope"),
    ]
    org = driver.slash(M_ANC, "/minutes")
    assert "Anchorage" in org.said() and not any(d in org.said() for d in OTHER_DISTRICTS)
    assert "Mesa" in driver.slash(M_ALL, "/minutes", "district=mesa").said()
    assert [c for c in driver.press(M_ALL, "home_minutes_csv", "mesa", from_home=True).methods()
            if c.startswith("files.")]  # fmt: skip


# --- the App Home ----------------------------------------------------------------------------


def _home(driver: Driver, user: str) -> str:
    reply = driver.open_home(user)
    published = [c for c in reply.calls if c.method == "views.publish"]
    assert published
    return json.dumps(published[-1].params.get("view"), ensure_ascii=False)


def test_a_scoped_managers_home_shows_only_their_districts(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    scoped, admin = _home(driver, M_ANC), _home(driver, M_ALL)
    assert "Anchorage" in scoped
    for name in OTHER_DISTRICTS:
        assert name in admin and name not in scoped
    for school in school_names(demo_deps, "mesa") + school_names(demo_deps, "pflugerville"):
        assert school not in scoped
    # Soledad (P04) serves Mesa only: her overdue notes are not the Anchorage manager's concern.
    assert "Soledad" in admin and "Soledad" not in scoped


# --- /soap history and the note buttons ------------------------------------------------------


def test_soap_history_outside_the_managers_districts_is_refused_like_a_missing_student(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    mesa_student = a_student(demo_deps, "mesa")
    refused = driver.slash(M_ANC, "/soap", f"history {mesa_student}")
    missing = driver.slash(M_ANC, "/soap", "history S99999")
    assert HISTORY_NOT_YOURS in refused.said() and HISTORY_NOT_YOURS in missing.said()
    assert "SOAP notes for" not in refused.said()
    assert denials(demo_deps) == [
        ("manager:M02", "soap.history_denied", mesa_student, "not_own"),
        ("manager:M02", "soap.history_denied", "S99999", "not_found"),
    ]
    assert "SOAP notes for" in driver.slash(M_ALL, "/soap", f"history {mesa_student}").said()
    anc = a_student(demo_deps, "anc")
    assert "SOAP notes for" in driver.slash(M_ANC, "/soap", f"history {anc}").said()
    assert len(denials(demo_deps)) == 2


def _note_of(deps: Deps, provider_slack: str) -> int:
    from bot.domain.sessions import NoteText
    from bot.services import soap

    [choice, *_] = soap.sessions_awaiting_note(deps, provider_slack)
    assert choice.session_id
    note = NoteText("s", "Goal 1: 8/10", "a", "p")
    return soap.save_note(deps, provider_slack, choice.session_id, note).note_id


def test_note_buttons_outside_scope_and_missing_ids_get_one_sentence_and_an_audit_row(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    note = _note_of(demo_deps, P04)  # a Mesa student's note
    other = driver.press(M_ANC, "soap_view_note", str(note))
    missing = driver.press(M_ANC, "soap_view_note", "999999")
    assert NOTE_NOT_YOURS in other.said() and NOTE_NOT_YOURS in missing.said()
    assert "Goal 1" not in other.said()
    # Write note on someone else's session, and on one that does not exist.
    others_session = str(a_session(demo_deps, "P04"))
    write_other = driver.press(P01, "soap_write_note", others_session)
    write_missing = driver.press(P01, "soap_write_note", "999998")
    assert NOT_YOURS in write_other.said() and NOT_YOURS in write_missing.said()
    assert denials(demo_deps) == [
        ("manager:M02", "soap.view_denied", str(note), "not_own"),
        ("manager:M02", "soap.view_denied", "999999", "not_found"),
        ("provider:P01", "soap.write_denied", others_session, "not_own"),
        ("provider:P01", "soap.write_denied", "999998", "not_found"),
    ]
    opened = driver.press(M_ALL, "soap_view_note", str(note))
    assert [c for c in opened.calls if c.method == "views.open"]


def _menu(user: str, value: str) -> dict[str, Any]:
    return {
        "action_id": "nudge_note_menu",
        "block_id": "nudge_note:1",
        "type": "overflow",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
    }


def _send_action(driver: Driver, user: str, action: dict[str, Any]) -> Reply:
    container = {"type": "message", "message_ts": "1.1", "channel_id": "D" + user}
    url = driver.slack.response_url(f"n{user}{action['action_id']}{len(driver.slack.calls)}")
    return driver.send(
        block_actions_body(user_id=user, action=action, response_url=url, container=container)
    )


def test_session_and_makeup_buttons_refuse_others_and_missing_ids_alike(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    others = str(a_session(demo_deps, "P04"))
    marked_other = _send_action(driver, P01, _menu(P01, f"cancelled:provider:{others}"))
    marked_missing = _send_action(driver, P01, _menu(P01, "cancelled:provider:999997"))
    assert MARK_NOT_YOURS in marked_other.said() and MARK_NOT_YOURS in marked_missing.said()
    makeup_other = driver.press(M_ANC, "makeup_schedule", others)
    makeup_missing = driver.press(M_ANC, "makeup_schedule", "999996")
    assert MAKEUP_NOT_YOURS in makeup_other.said() and MAKEUP_NOT_YOURS in makeup_missing.said()
    assert [(a, s, r) for _, a, s, r in denials(demo_deps)] == [
        ("session.mark_denied", others, "not_own"),
        ("session.mark_denied", "999997", "not_found"),
        ("makeup.denied", others, "not_own"),
        ("makeup.denied", "999996", "not_found"),
    ]
    with demo_deps.session_factory() as s:
        assert s.get(m.TherapySession, int(others)).status != "cancelled"  # type: ignore[union-attr]


def _review_nudge(deps: Deps, district_id: str) -> tuple[int, str, date]:
    student = a_student(deps, district_id)
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        st = s.get(m.Student, student)
        assert st is not None
        due = st.annual_review_due
        row = m.Nudge(
            key=f"test:{student}",
            rule="annual_review",
            recipient_kind="provider",
            recipient_id="P04",
            subject_id=student,
            due_on=due,
            stage="d30",
            payload={},
            created_at=now,
            send_after=now,
            sent_at=now,
            attempts=1,
            batch_id=BATCH,
        )
        s.add(row)
        s.flush()
        return int(row.id), student, due


def _held(user: str, nudge_id: int, on: date) -> dict[str, Any]:
    return {
        "action_id": "nudge_review_held",
        "block_id": f"nudge_review:{nudge_id}",
        "type": "datepicker",
        "selected_date": on.isoformat(),
    }


def test_a_reminder_about_another_districts_student_is_refused_like_a_missing_one(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    nudge, student, due = _review_nudge(demo_deps, "mesa")
    held_on = demo_deps.clock.now().date() - timedelta(days=1)
    other = _send_action(driver, M_ANC, _held(M_ANC, nudge, held_on))
    missing = _send_action(driver, M_ANC, _held(M_ANC, 999995, held_on))
    assert NOT_YOURS_OR_GONE in other.said() and NOT_YOURS_OR_GONE in missing.said()
    with demo_deps.session_factory() as s:
        assert s.get(m.Student, student).annual_review_due == due  # type: ignore[union-attr]
    assert denials(demo_deps) == [
        ("manager:M02", "nudge.denied", str(nudge), "not_own"),
        ("manager:M02", "nudge.denied", "999995", "not_found"),
    ]
    done = _send_action(driver, M_ALL, _held(M_ALL, nudge, held_on))  # an organisation admin
    assert NOT_YOURS_OR_GONE not in done.said()
    with demo_deps.session_factory() as s:
        assert s.get(m.Student, student).annual_review_due != due  # type: ignore[union-attr]


def test_snoozing_a_reminder_about_another_district_is_refused_like_a_missing_one(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    _review_nudge(demo_deps, "mesa")
    missing_batch = "0f0e0d0c-0b0a-4090-8070-605040302010"
    other = driver.press(M_ANC, "nudge_snooze", BATCH)
    missing = driver.press(M_ANC, "nudge_snooze", missing_batch)
    assert NOT_YOURS_OR_GONE in other.said() and NOT_YOURS_OR_GONE in missing.said()
    assert denials(demo_deps) == [
        ("manager:M02", "nudge.denied", BATCH, "not_own"),
        ("manager:M02", "nudge.denied", missing_batch, "not_found"),
    ]
    assert "Snoozed" in driver.press(M_ALL, "nudge_snooze", BATCH).said()


# --- /availability @provider -----------------------------------------------------------------


def test_availability_of_a_provider_outside_the_managers_districts_is_refused(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    driver = Driver(demo_deps, slack)
    edit = driver.slash(M_ANC, "/availability", f"<@{P04}> Tue 8-11 PT")
    show = driver.slash(M_ANC, "/availability", f"<@{P04}>")
    assert AVAILABILITY_REFUSED in edit.said() and AVAILABILITY_REFUSED in show.said()
    assert [(a, s, r) for _, a, s, r in denials(demo_deps)] == [
        ("availability.denied", "P04", "outside_district_scope"),
        ("availability.denied", "P04", "outside_district_scope"),
    ]
    with demo_deps.session_factory() as s:
        assert not s.scalars(select(m.PendingAction)).all()  # no preview stored
    # A provider who serves Anchorage among others, and one who serves no student yet: allowed.
    assert "Replace Devin" in driver.slash(M_ANC, "/availability", f"<@{P02}> Tue 8-11 PT").said()
    assert "Replace Ines" in driver.slash(M_ANC, "/availability", "<@U0DEMOP06> Tue 8-11").said()
    assert "Replace Soledad" in driver.slash(M_ALL, "/availability", f"<@{P04}> Tue 8-11").said()
    assert len(denials(demo_deps)) == 2


def _weekly_slots_for(deps: Deps, provider_id: str) -> dict[str, list[str]]:
    """A Monday 10:00 (school time) slot for each of the provider's assignments; their students
    per district."""
    out: dict[str, list[str]] = {}
    with deps.session_factory.begin() as s:
        rows = s.execute(
            select(m.Assignment.id, m.Assignment.student_id, m.School.district_id, m.School.id)
            .join(m.Student, m.Student.id == m.Assignment.student_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.Assignment.provider_id == provider_id)
        ).all()
        zones = dict(
            s.execute(
                select(m.School.id, m.District.timezone).join(
                    m.District, m.District.id == m.School.district_id
                )
            ).all()
        )
        for assignment_id, student_id, district_id, school_id in rows:
            s.add(
                m.AssignmentSlot(
                    assignment_id=assignment_id, day=0, start_minute=600, end_minute=630,
                    timezone=zones[school_id], group_key=None,
                )
            )  # fmt: skip
            out.setdefault(district_id, []).append(student_id)
    return out


def test_an_availability_preview_names_only_the_managers_districts_students(
    demo_deps: Deps, slack: LocalSlack
) -> None:
    students = _weekly_slots_for(demo_deps, "P02")  # Anchorage and Pflugerville
    driver = Driver(demo_deps, slack)
    preview = driver.slash(M_ANC, "/availability", f"<@{P02}> Fri 7-8 PT")
    scoped = preview.said()
    admin = driver.slash(M_ALL, "/availability", f"<@{P02}> Fri 7-8 PT").said()
    assert "outside their new hours" in scoped and "outside their new hours" in admin
    for sid in students["anc"]:
        assert sid in scoped and sid in admin
    for sid in students["pflugerville"]:
        assert sid in admin and sid not in scoped
    # Saved: the confirmation is scoped too; Pflugerville's manager is told about theirs.
    [pending] = [c.params for c in preview.calls if "blocks" in c.params]
    value = next(
        e["value"]
        for b in pending["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "availability_save"
    )
    saved = driver.press(M_ANC, "availability_save", value)
    to_asker = json.dumps(
        [c.params for c in saved.calls if c.method != "chat.postMessage"], ensure_ascii=False
    )  # the reply (response_url, Home); the DMs to managers are posts
    assert "outside" in to_asker
    assert not any(sid in to_asker for sid in students["pflugerville"])
    told = json.dumps([c.params for c in slack.calls_to("chat.postMessage")])
    assert all(sid in told for sid in students["pflugerville"])

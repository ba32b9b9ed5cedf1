"""Wiring: settings are validated at start with one line naming the variable; CLI exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract() -> None:
    s = load_settings({})
    assert s.database_url == "sqlite:///caseload.db"
    assert (s.port, s.org_timezone, s.slack_api_url) == (
        3000,
        "America/Los_Angeles",
        "https://slack.com/api/",
    )
    assert s.slack_bot_token is None and s.slack_signing_secret is None


def test_heroku_postgres_url_means_psycopg3() -> None:
    assert load_settings({"DATABASE_URL": "postgres://u:p@h:5432/d"}).database_url == (
        "postgresql+psycopg://u:p@h:5432/d"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ORG_TIMEZONE": "Mars/Olympus"}, "ORG_TIMEZONE: 'Mars/Olympus' is not an IANA time zone"),
        ({"PORT": "http"}, "PORT: Input should be a valid integer"),
        ({"PORT": "70000"}, "PORT: Input should be less than or equal to 65535"),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user"},
            "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-",
        ),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL: must start with http:// or https://"),
        ({"DATABASE_URL": "caseload.db"}, "DATABASE_URL: is not a database URL"),
        (
            {"ANNUAL_REVIEW_STAGES": "30,soon"},
            "ANNUAL_REVIEW_STAGES: must be comma-separated whole days",
        ),
        (
            {"SLACK_CLIENT_ID": "", "SLACK_CLIENT_SECRET": ""},
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        ),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(env)
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        input=stdin,
        timeout=60,
        check=False,
    )


def test_invalid_setting_stops_the_process_with_one_line() -> None:
    out = run_cli("migrate", env={"ORG_TIMEZONE": "Nowhere/Land"})
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "error: ORG_TIMEZONE: 'Nowhere/Land' is not an IANA time zone (e.g. America/Anchorage)"
    ]


def test_usage_error_exits_2() -> None:
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("match").returncode == 2  # --district is required


def test_serve_without_tokens_says_which_is_missing(tmp_path: Path) -> None:
    out = run_cli("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert out.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in out.stderr and "Traceback" not in out.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    out = run_cli("migrate", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"})
    assert out.returncode == 1
    assert out.stderr.startswith("error: DATABASE_URL: cannot migrate")
    assert "Traceback" not in out.stderr


def test_parse_prints_the_contract_json() -> None:
    out = run_cli("parse", "Tue 8-11 PT", "--today", "2026-11-27")
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        '{"text": "Tue 8-11 PT", "intent": "replace", "tz": "America/Los_Angeles", '
        '"windows": [{"day": "tue", "start": "08:00", "end": "11:00"}], "dates": null, '
        '"error": null}\n'
    )


def test_parse_reads_stdin_one_message_per_line() -> None:
    out = run_cli("parse", "--today", "2026-11-27", stdin="out Dec 23 - Jan 2\nTue or Wed\n")
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    assert '"dates": {"start": "2026-12-23", "end": "2027-01-02"}' in lines[0]
    assert '"error": null' not in lines[1]


def test_help_points_to_the_readme_not_to_files_outside_the_repository() -> None:
    import argparse
    import re

    from bot.__main__ import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [sub.format_help() for sub in action.choices.values()]
    everything = " ".join("\n".join(texts).split())  # argparse wraps lines
    assert set(re.findall(r"\b[A-Z]+\.md\b", everything)) == {"README.md"}
    assert "README: Importing a roster" in everything
    assert "README: Commands, match --json" in everything
    assert "CONTRACTS" not in everything and "ROSTER" not in everything

"""Test wiring: a real database per run, a fixed clock and the loopback fake Slack Web API.

``TEST_DATABASE_URL`` unset: SQLite in a temporary folder; tests marked ``postgres`` skip.
``TEST_DATABASE_URL=postgresql://...``: every test runs on that server, and an unreachable
server fails the run (never skips) — that is how CI proves the PostgreSQL pass really ran.

The suite runs on pytest-xdist workers (``-n auto`` in pyproject). On PostgreSQL each worker
gets its own database beside the named one (``test`` → ``test_gw0``, ``test_gw1``), created
afresh through the named one, so that workers never clean each other's tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from bot.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings, load_settings
from bot.slack_gateway import SlackGateway, make_web_client
from devtools.local_slack import LocalSlack
from storage.db import make_engine, make_session_factory, migrate
from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
DEMO_ROSTER = ROOT / "demo" / "roster"
# Monday 2026-11-30, 17:00 UTC: 09:00 Pacific, 08:00 Alaska, 12:00 Eastern.
DEFAULT_NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def _configured_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def is_postgres_run() -> bool:
    url = _configured_url()
    return bool(url and url.startswith(("postgres://", "postgresql")))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if is_postgres_run():
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: set TEST_DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    url = _configured_url()
    return f"database: {'PostgreSQL ' + url if is_postgres_run() else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _configured_url()
    if url is None:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
    settings = load_settings({"DATABASE_URL": url})
    url = settings.database_url
    if settings.is_sqlite:
        migrate(url)
        yield url
        return
    try:
        url = _fresh_postgres_database(url, os.environ.get("PYTEST_XDIST_WORKER"))
    except Exception as exc:  # noqa: BLE001 - any failure here means the server is missing
        pytest.fail(f"TEST_DATABASE_URL names a PostgreSQL server that cannot be used: {exc}")
    migrate(url)
    yield url


def _fresh_postgres_database(url: str, worker: str | None) -> str:
    """An empty database for this process: the named one when the suite runs in one process,
    else ``<name>_<worker>``, dropped and created again through the named one."""
    if worker is None:
        engine = make_engine(url, null_pool=True)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        return url
    parsed = make_url(url)
    own = f"{parsed.database}_{worker}"
    admin = make_engine(url, null_pool=True).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{own}"'))
    finally:
        admin.dispose()
    return parsed.set(database=own).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def clean(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    clean(engine)
    yield engine


@pytest.fixture(scope="session")
def local_slack() -> Iterator[LocalSlack]:
    with LocalSlack() as fake:
        yield fake


@pytest.fixture
def slack(local_slack: LocalSlack) -> LocalSlack:
    local_slack.clear()
    return local_slack


@pytest.fixture
def settings(database_url: str, local_slack: LocalSlack) -> Settings:
    return load_settings(
        {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": "test-signing-secret",
            "SLACK_API_URL": local_slack.api_url,
            "MATCH_TIME_LIMIT_SECONDS": "2",
            "LISTENER_THREADS": "4",
        }
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def deps(settings: Settings, db: Engine, clock: FixedClock, slack: LocalSlack) -> Deps:
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url, retries=1)
    return Deps(
        settings=settings,
        engine=db,
        session_factory=make_session_factory(db),
        clock=clock,
        gateway=SlackGateway(client),
    )


@pytest.fixture
def demo_deps(deps: Deps) -> Deps:
    """Deps with the shipped demo roster loaded as of its anchor date."""
    from storage.roster import import_roster

    report = import_roster(DEMO_ROSTER, deps.session_factory)
    assert report.ok, report.problems
    return deps

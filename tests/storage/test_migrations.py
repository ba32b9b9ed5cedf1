"""Storage: every migration runs down and up again with data in place, on the suite's database
kind (SQLite, or PostgreSQL in a scratch database beside the test one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text

from storage import models as m
from storage.db import alembic_config, make_engine, make_session_factory
from storage.roster import import_roster
from tests.conftest import is_postgres_run

DEMO = Path(__file__).resolve().parents[2] / "demo" / "roster"


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    if not is_postgres_run():
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    # Named after the test database, so that suites on one server never share the scratch one.
    base, name = database_url.rsplit("/", 1)
    scratch = f"{name}_migrations"
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    yield f"{base}/{scratch}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    admin.dispose()


def test_each_migration_goes_down_and_up_with_data(scratch_url: str) -> None:
    cfg = alembic_config(scratch_url)
    revisions = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()][::-1]
    command.upgrade(cfg, "head")
    engine = make_engine(scratch_url)
    assert import_roster(DEMO, make_session_factory(engine)).ok
    with engine.connect() as conn:
        students = conn.execute(select(func.count()).select_from(m.Student.__table__)).scalar_one()
    assert students == 60
    # Step down one revision at a time (keeping the first, which holds the data), going back up
    # each step once on the way, then up to the head again.
    for _ in revisions[1:]:
        command.downgrade(cfg, "-1")
        command.upgrade(cfg, "+1")
        command.downgrade(cfg, "-1")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(m.Student.__table__)).scalar_one() == 60
        )
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in m.Base.metadata.sorted_tables} <= tables
    command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    engine.dispose()


def test_models_and_migrations_agree(scratch_url: str) -> None:
    """Autogenerate finds nothing to add: the migrations build exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    command.upgrade(alembic_config(scratch_url), "head")
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    engine.dispose()
    assert diff == []

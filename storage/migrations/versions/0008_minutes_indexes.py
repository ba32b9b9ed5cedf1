"""sessions: indexes for the minutes' reads (the make-ups, the sessions not held)

Revision ID: 0008_minutes_indexes
Revises: 0007_drop_digest_key
Create Date: 2026-11-29 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_minutes_indexes'
down_revision: str | None = '0007_drop_digest_key'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NOT_HELD = "status <> 'held'"


def upgrade() -> None:
    # Plain CREATE INDEX on both databases (no batch: SQLite would copy the table).
    op.create_index(
        'ix_sessions_makeup',
        'sessions',
        ['session_key'],
        unique=False,
        postgresql_where=sa.text('makeup'),
        sqlite_where=sa.text('makeup'),
    )
    op.create_index(
        'ix_sessions_unheld',
        'sessions',
        ['starts_at'],
        unique=False,
        postgresql_where=sa.text(NOT_HELD),
        sqlite_where=sa.text(NOT_HELD),
    )


def downgrade() -> None:
    op.drop_index('ix_sessions_unheld', table_name='sessions')
    op.drop_index('ix_sessions_makeup', table_name='sessions')

"""nudges: batch, digest and skip columns; outbox and missing-note indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "sent_at IS NULL AND skipped_at IS NULL"
MISSING_NOTE = "note_done_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('digest_key', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('skipped_at', storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f('ix_nudges_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudges_digest_key'), ['digest_key'], unique=False)
    # Partial indexes: created outside batch mode so that SQLite keeps the WHERE clause.
    op.create_index(
        'ix_nudges_outbox',
        'nudges',
        ['send_after'],
        unique=False,
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    op.create_index(
        'ix_sessions_note_missing',
        'sessions',
        ['provider_id', 'starts_at'],
        unique=False,
        postgresql_where=sa.text(MISSING_NOTE),
        sqlite_where=sa.text(MISSING_NOTE),
    )


def downgrade() -> None:
    op.drop_index('ix_sessions_note_missing', table_name='sessions')
    op.drop_index('ix_nudges_outbox', table_name='nudges')
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudges_digest_key'))
        batch_op.drop_index(batch_op.f('ix_nudges_batch_id'))
        batch_op.drop_column('skipped_at')
        batch_op.drop_column('digest_key')
        batch_op.drop_column('batch_id')

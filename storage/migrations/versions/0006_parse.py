"""time off for part of a day: optional hours and zone on a time-off row

Revision ID: 0006_parse
Revises: 0005_import
Create Date: 2026-11-29 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_parse'
down_revision: str | None = '0005_import'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_minute', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('end_minute', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('end_minute')
        batch_op.drop_column('start_minute')

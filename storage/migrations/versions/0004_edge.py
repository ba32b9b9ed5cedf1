"""edge: seen_requests, the replay guard for signed Slack requests

Revision ID: 0004_edge
Revises: 0003_changes
Create Date: 2026-11-29 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_edge'
down_revision: str | None = '0003_changes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'seen_requests',
        sa.Column('timestamp', sa.BigInteger(), nullable=False),
        sa.Column('signature', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('timestamp', 'signature', name=op.f('pk_seen_requests')),
    )


def downgrade() -> None:
    op.drop_table('seen_requests')

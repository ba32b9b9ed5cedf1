"""drop the unused nudges.digest_key column (digests are keyed by their own outbox row's key)

Revision ID: 0007_drop_digest_key
Revises: 0006_parse
Create Date: 2026-11-29 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_drop_digest_key'
down_revision: str | None = '0006_parse'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudges_digest_key'))
        batch_op.drop_column('digest_key')


def downgrade() -> None:
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_key', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_nudges_digest_key'), ['digest_key'], unique=False)

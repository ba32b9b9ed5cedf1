"""import: manager districts, service minutes and dates, school calendar, removals

Revision ID: 0005_import
Revises: 0004_edge
Create Date: 2026-11-29 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0005_import'
down_revision: str | None = '0004_edge'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('manager_districts',
    sa.Column('manager_id', sa.String(length=64), nullable=False),
    sa.Column('district_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_manager_districts_district_id_districts')),
    sa.ForeignKeyConstraint(['manager_id'], ['managers.id'], name=op.f('fk_manager_districts_manager_id_managers')),
    sa.PrimaryKeyConstraint('manager_id', 'district_id', name=op.f('pk_manager_districts'))
    )
    op.create_table('school_calendar',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('district_id', sa.String(length=64), nullable=True),
    sa.Column('school_id', sa.String(length=64), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ends_at_minute', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint("(kind = 'closed' AND ends_at_minute IS NULL) OR (kind = 'early_release' AND ends_at_minute IS NOT NULL)", name=op.f('ck_school_calendar_kind')),
    sa.CheckConstraint('(district_id IS NULL) <> (school_id IS NULL)', name=op.f('ck_school_calendar_owner')),
    sa.CheckConstraint('start_date <= end_date', name=op.f('ck_school_calendar_span')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_school_calendar_district_id_districts')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_calendar_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_calendar'))
    )
    with op.batch_alter_table('school_calendar', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_calendar_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_school_calendar_school_id'), ['school_id'], unique=False)

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', storage.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minutes_per_week', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('minutes_per_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))

    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exited_at', storage.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch copy of a table that others
    # reference would trip SQLite's foreign-key check.
    for table, column in (
        ('students', 'exited_at'),
        ('services', 'ends_on'),
        ('services', 'starts_on'),
        ('services', 'minutes_per_month'),
        ('services', 'minutes_per_week'),
        ('providers', 'removed_at'),
    ):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    with op.batch_alter_table('school_calendar', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_calendar_school_id'))
        batch_op.drop_index(batch_op.f('ix_school_calendar_district_id'))
    op.drop_table('school_calendar')
    op.drop_table('manager_districts')

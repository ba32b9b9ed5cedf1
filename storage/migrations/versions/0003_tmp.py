"""TEMPORARY stand-in for import's columns (reverted before merging main)."""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003_tmp"
down_revision = "0004_edge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "school_calendar",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("district_id", sa.String(length=64), nullable=True),
        sa.Column("school_id", sa.String(length=64), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ends_at_minute", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(["district_id"], ["districts.id"], name=op.f("fk_school_calendar_district_id_districts")),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], name=op.f("fk_school_calendar_school_id_schools")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_calendar")),
    )
    with op.batch_alter_table("school_calendar") as b:
        b.create_index(b.f("ix_school_calendar_district_id"), ["district_id"], unique=False)
        b.create_index(b.f("ix_school_calendar_school_id"), ["school_id"], unique=False)
    with op.batch_alter_table("services") as b:
        b.add_column(sa.Column("minutes_per_week", sa.Integer(), nullable=True))
        b.add_column(sa.Column("minutes_per_month", sa.Integer(), nullable=True))
        b.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        b.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
    with op.batch_alter_table("students") as b:
        b.add_column(sa.Column("exited_at", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("students") as b:
        b.drop_column("exited_at")
    with op.batch_alter_table("services") as b:
        for c in ("ends_on", "starts_on", "minutes_per_month", "minutes_per_week"):
            b.drop_column(c)
    op.drop_table("school_calendar")

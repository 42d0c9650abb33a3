"""The first schema: participants, straps, sessions, samples, RR intervals, events and
per-interval adherence.

Revision ID: 0001
Revises:
Created: 2026-11-27

Frozen: it spells out its own types instead of importing the models, which will change.
Enumerations are plain strings (no CHECK constraint) so new values need no migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(type_: sa.types.TypeEngine | None = None) -> sa.Column:
    return sa.Column("id", type_ if type_ is not None else sa.Integer(), nullable=False)


def _ref(column: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(column, sa.Integer(), nullable=nullable)


def _fk(table: str, column: str, target: str, *,
        cascade: bool = True) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}",
        ondelete="CASCADE" if cascade else None)


def _float(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Double(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "participants",
        _id(),
        sa.Column("study_code", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        _float("hrmax_bpm", nullable=True),
        sa.Column("hrmax_method", sa.String(16), nullable=True),
        sa.Column("hrmax_date", sa.Date(), nullable=True),
        _float("resting_bpm", nullable=True),
        sa.Column("beta_blocker", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_utc", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
        sa.UniqueConstraint("study_code", name="uq_participants_study_code"),
    )
    op.create_table(
        "straps",
        _id(),
        sa.Column("strap_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("battery_pct", sa.Integer(), nullable=True),
        sa.Column("battery_utc", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_straps"),
        sa.UniqueConstraint("strap_key", name="uq_straps_strap_key"),
    )
    op.create_table(
        "strap_assignments",
        _ref("participant_id"),
        _ref("strap_id"),
        sa.Column("assigned_utc", UTC_TIME, nullable=False),
        _fk("strap_assignments", "participant_id", "participants"),
        _fk("strap_assignments", "strap_id", "straps"),
        sa.PrimaryKeyConstraint("participant_id", name="pk_strap_assignments"),
        sa.UniqueConstraint("strap_id", name="uq_strap_assignments_strap_id"),
    )
    op.create_table(
        "sessions",
        _id(),
        sa.Column("protocol_key", sa.String(64), nullable=False),
        sa.Column("protocol", JSON, nullable=False),
        sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("site", sa.String(100), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("started_utc", UTC_TIME, nullable=False),
        sa.Column("ended_utc", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_started_utc", "sessions", ["started_utc"])
    op.create_index("ix_sessions_status_host", "sessions", ["status", "host"])
    op.create_table(
        "session_participants",
        _id(),
        _ref("session_id"),
        _ref("participant_id"),
        _ref("strap_id", nullable=True),
        _float("hrmax_bpm"),
        sa.Column("hrmax_method", sa.String(16), nullable=False),
        _float("resting_bpm", nullable=True),
        _float("ceiling_pct", nullable=True),
        _fk("session_participants", "session_id", "sessions"),
        _fk("session_participants", "participant_id", "participants", cascade=False),
        _fk("session_participants", "strap_id", "straps", cascade=False),
        sa.PrimaryKeyConstraint("id", name="pk_session_participants"),
        sa.UniqueConstraint("session_id", "participant_id",
                            name="uq_session_participants_session_id_participant_id"),
    )
    op.create_index("ix_session_participants_participant_id", "session_participants",
                    ["participant_id"])
    op.create_table(
        "samples",
        _id(BIG_ID),
        _ref("session_participant_id"),
        _float("t_s"),
        sa.Column("wall_utc", UTC_TIME, nullable=False),
        sa.Column("bpm", sa.Integer(), nullable=False),
        _float("pct_hrmax", nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("flags", sa.SmallInteger(), nullable=False),
        sa.Column("contact", sa.String(16), nullable=False),
        _fk("samples", "session_participant_id", "session_participants"),
        sa.PrimaryKeyConstraint("id", name="pk_samples"),
    )
    op.create_index("ix_samples_session_participant_id_t_s", "samples",
                    ["session_participant_id", "t_s"])
    op.create_table(
        "rr_intervals",
        _id(BIG_ID),
        _ref("session_participant_id"),
        _float("t_s"),
        _float("rr_ms"),
        sa.Column("flags", sa.SmallInteger(), nullable=False),
        _fk("rr_intervals", "session_participant_id", "session_participants"),
        sa.PrimaryKeyConstraint("id", name="pk_rr_intervals"),
    )
    op.create_index("ix_rr_intervals_session_participant_id_t_s", "rr_intervals",
                    ["session_participant_id", "t_s"])
    op.create_table(
        "events",
        _id(BIG_ID),
        _ref("session_id"),
        _ref("session_participant_id", nullable=True),
        _float("t_s"),
        sa.Column("wall_utc", UTC_TIME, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        _fk("events", "session_id", "sessions"),
        _fk("events", "session_participant_id", "session_participants"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_session_id_t_s", "events", ["session_id", "t_s"])
    op.create_table(
        "phase_adherence",
        _id(),
        _ref("session_participant_id"),
        sa.Column("phase_index", sa.Integer(), nullable=False),
        sa.Column("phase_name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _float("start_s"),
        _float("end_s"),
        sa.Column("target_level", sa.SmallInteger(), nullable=False),
        _float("seconds_in_target"),
        _float("seconds_above_target"),
        _float("seconds_below_target"),
        _float("seconds_no_data"),
        _float("fraction_in_target_after_ramp"),
        _float("time_to_target_s", nullable=True),
        _float("peak_pct", nullable=True),
        sa.Column("achieved", sa.Boolean(), nullable=False),
        _fk("phase_adherence", "session_participant_id", "session_participants"),
        sa.PrimaryKeyConstraint("id", name="pk_phase_adherence"),
        sa.UniqueConstraint("session_participant_id", "phase_index",
                            name="uq_phase_adherence_session_participant_id_phase_index"),
    )


def downgrade() -> None:
    for table in ("phase_adherence", "events", "rr_intervals", "samples",
                  "session_participants", "sessions", "strap_assignments", "straps",
                  "participants"):
        op.drop_table(table)

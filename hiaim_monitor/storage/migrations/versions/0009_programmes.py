"""Programmes: a programme (name, site, start date, weeks, sessions a week, weekdays, an
optional protocol per week, simulated or not), its enrolments (with withdrawal), each
participant's planned sessions with their attendance and the recorded session they became,
and per planned session the Borg RPE ratings, dose modifications, an early termination and
adverse events. New tables only: every row stored before stays as it was.

Revision ID: 0009
Revises: 0008
Created: 2026-12-02

Frozen: it spells out its own types instead of importing the models, which will change.
Enumerations are plain strings (no CHECK constraint) so new values need no migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("weeks", sa.Integer(), server_default="6", nullable=False),
        sa.Column("sessions_per_week", sa.Integer(), server_default="3", nullable=False),
        sa.Column("weekdays", JSON, nullable=False),
        sa.Column("protocol_by_week", JSON, nullable=True),
        sa.Column("simulated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_programmes"),
        sa.UniqueConstraint("name", name="uq_programmes_name")
    )
    op.create_table(
        "programme_enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=False),
        sa.Column("created_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
            name="fk_programme_enrolments_participant_id_participants"),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"],
            name="fk_programme_enrolments_programme_id_programmes", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_programme_enrolments"),
        sa.UniqueConstraint("programme_id", "participant_id",
            name="uq_programme_enrolments_programme_id_participant_id")
    )
    op.create_index("ix_programme_enrolments_participant_id", "programme_enrolments",
        ["participant_id"])
    op.create_table(
        "planned_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("attendance", sa.String(16), nullable=True),
        sa.Column("missed_reason", sa.String(32), nullable=True),
        sa.Column("attendance_note", sa.Text(), nullable=False),
        sa.Column("attendance_utc", UTC_TIME, nullable=True),
        sa.Column("created_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["programme_enrolments.id"],
            name="fk_planned_sessions_enrolment_id_programme_enrolments", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
            name="fk_planned_sessions_session_id_sessions", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_planned_sessions"),
        sa.UniqueConstraint("enrolment_id", "week", "number",
            name="uq_planned_sessions_enrolment_id_week_number")
    )
    op.create_index("ix_planned_sessions_session_id", "planned_sessions", ["session_id"])
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("planned_session_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("related", sa.String(16), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("recorded_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["planned_session_id"], ["planned_sessions.id"],
            name="fk_adverse_events_planned_session_id_planned_sessions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_adverse_events")
    )
    op.create_index("ix_adverse_events_planned_session_id", "adverse_events",
        ["planned_session_id"])
    op.create_table(
        "dose_modifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("planned_session_id", sa.Integer(), nullable=False),
        sa.Column("modification", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["planned_session_id"], ["planned_sessions.id"],
            name="fk_dose_modifications_planned_session_id_planned_sessions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_dose_modifications")
    )
    op.create_index("ix_dose_modifications_planned_session_id", "dose_modifications",
        ["planned_session_id"])
    op.create_table(
        "early_terminations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("planned_session_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["planned_session_id"], ["planned_sessions.id"],
            name="fk_early_terminations_planned_session_id_planned_sessions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_early_terminations"),
        sa.UniqueConstraint("planned_session_id", name="uq_early_terminations_planned_session_id")
    )
    op.create_table(
        "rpe_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("planned_session_id", sa.Integer(), nullable=False),
        sa.Column("phase_index", sa.Integer(), nullable=True),
        sa.Column("borg", sa.SmallInteger(), nullable=False),
        sa.Column("recorded_utc", UTC_TIME, nullable=False),
        sa.Column("updated_utc", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["planned_session_id"], ["planned_sessions.id"],
            name="fk_rpe_ratings_planned_session_id_planned_sessions", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_rpe_ratings")
    )
    op.create_index("ix_rpe_ratings_planned_session_id", "rpe_ratings", ["planned_session_id"])


def downgrade() -> None:
    op.drop_index("ix_rpe_ratings_planned_session_id", table_name="rpe_ratings")
    op.drop_table("rpe_ratings")
    op.drop_table("early_terminations")
    op.drop_index("ix_dose_modifications_planned_session_id", table_name="dose_modifications")
    op.drop_table("dose_modifications")
    op.drop_index("ix_adverse_events_planned_session_id", table_name="adverse_events")
    op.drop_table("adverse_events")
    op.drop_index("ix_planned_sessions_session_id", table_name="planned_sessions")
    op.drop_table("planned_sessions")
    op.drop_index("ix_programme_enrolments_participant_id", table_name="programme_enrolments")
    op.drop_table("programme_enrolments")
    op.drop_table("programmes")

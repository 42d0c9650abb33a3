"""How far each session writer has got, so a retried batch is never stored twice.

Revision ID: 0003
Revises: 0002
Created: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writer_progress",
        sa.Column("writer_id", sa.String(36), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("end_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name="fk_writer_progress_session_id_sessions",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("writer_id", name="pk_writer_progress"),
    )
    op.create_index("ix_writer_progress_session_id", "writer_progress", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_writer_progress_session_id", table_name="writer_progress")
    op.drop_table("writer_progress")

"""Session liveness: the writer's heartbeat and the process that records, so a session still
recording is told from one a crash left behind.

Revision ID: 0006
Revises: 0005
Created: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("heartbeat_utc", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("pid")
        batch.drop_column("heartbeat_utc")

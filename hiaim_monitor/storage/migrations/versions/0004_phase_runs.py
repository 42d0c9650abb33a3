"""Planned against ran per judged phase, and the "not judged" outcome of a phase cut short.

Revision ID: 0004
Revises: 0003
Created: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("phase_adherence") as batch:
        batch.add_column(sa.Column("planned_s", sa.Double(), nullable=True))
        batch.add_column(sa.Column("ran_s", sa.Double(), nullable=True))
        # Rows already stored were judged under the old rule: keep them judged.
        batch.add_column(sa.Column("judged", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("phase_adherence") as batch:
        batch.drop_column("judged")
        batch.drop_column("ran_s")
        batch.drop_column("planned_s")

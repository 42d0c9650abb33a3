"""Samples keep the energy expended the strap sent. Their wall time is now the arrival the
driver stamped and their contact the status the strap sent (``not_supported`` included);
both columns were there already, so only energy_kj is new. Rows stored before keep what they
had: energy_kj NULL, wall time and contact as they were rebuilt then.

Revision ID: 0008
Revises: 0007
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("samples") as batch:
        batch.add_column(sa.Column("energy_kj", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("samples") as batch:
        batch.drop_column("energy_kj")

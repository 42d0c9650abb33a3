"""A block of short bouts judged as a whole: its phase_adherence row (stored under the
block's first phase) says which block it is, the target it was measured against, the rule
it was achieved by and every bout's own peak. New nullable columns only: rows stored before
are long phases (or bouts judged one by one, as that version did) and stay valid with NULL.

Revision ID: 0010
Revises: 0009
Created: 2026-12-03

Frozen: it spells out its own types instead of importing the models, which will change.
achieved_by is a plain string (no CHECK constraint) so new rules need no migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("phase_adherence") as batch:
        batch.add_column(sa.Column("block_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("target_pct", sa.Double(), nullable=True))
        batch.add_column(sa.Column("achieved_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("bout_peaks_pct", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("phase_adherence") as batch:
        batch.drop_column("bout_peaks_pct")
        batch.drop_column("achieved_by")
        batch.drop_column("target_pct")
        batch.drop_column("block_index")

"""Simulated sessions and participants are flagged, so no real path mixes them in; a
participant can be archived (off the roster, sessions kept).

Rows a simulation left in a real database before this flag existed are flagged too: the
simulator registered its virtual participants with the note "simulated participant" and
their straps with the kind "simulated".

Revision ID: 0005
Revises: 0004
Created: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SIMULATOR_NOTE = "simulated participant"
SIMULATED_STRAP_KIND = "simulated"


def upgrade() -> None:
    # Plain ADD COLUMN, which SQLite has: a batch copy of these tables would drop tables
    # that recorded rows refer to.
    for table, column in (("participants", "simulated"), ("participants", "archived"),
                          ("sessions", "simulated")):
        op.add_column(table, sa.Column(column, sa.Boolean(), nullable=False,
                                       server_default=sa.false()))

    participants = sa.table("participants", sa.column("id", sa.Integer),
                            sa.column("notes", sa.Text), sa.column("simulated", sa.Boolean))
    straps = sa.table("straps", sa.column("id", sa.Integer), sa.column("kind", sa.String))
    assignments = sa.table("strap_assignments", sa.column("participant_id", sa.Integer),
                           sa.column("strap_id", sa.Integer))
    sessions = sa.table("sessions", sa.column("id", sa.Integer),
                        sa.column("simulated", sa.Boolean))
    members = sa.table("session_participants", sa.column("session_id", sa.Integer),
                       sa.column("participant_id", sa.Integer))
    wears_simulated = (sa.select(assignments.c.participant_id)
                       .join(straps, straps.c.id == assignments.c.strap_id)
                       .where(straps.c.kind == SIMULATED_STRAP_KIND))
    op.execute(participants.update()
               .where(sa.or_(participants.c.notes == SIMULATOR_NOTE,
                             participants.c.id.in_(wears_simulated)))
               .values(simulated=True))
    simulated_ids = sa.select(participants.c.id).where(participants.c.simulated)
    op.execute(sessions.update()
               .where(sessions.c.id.in_(sa.select(members.c.session_id)
                                        .where(members.c.participant_id.in_(simulated_ids))))
               .values(simulated=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("simulated")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("archived")
        batch.drop_column("simulated")

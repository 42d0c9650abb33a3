"""Strap ids name their radio, and one physical strap can have several ids.

Stored ids are rewritten to the prefixed form: a bare BLE address ``aa-bb-cc-dd-ee-ff`` or
``AA:BB:CC:DD:EE:FF`` becomes ``ble:AA:BB:CC:DD:EE:FF``; the simulator's old
``SIM:00:00:00:00:HH:LL`` becomes ``sim:NNNN`` (the strap's number, ``0xHHLL``, in four
decimal digits, as ``simulators.strap.strap_id_for`` names it now); a bare number on a strap
of kind "ant" becomes ``ant:N``. An id already prefixed stays, and so does one of no known
form (the registry still finds it by its exact text), or one whose new spelling another row
already has (two rows of one strap: merging them is the operator's call, not a migration's).

``strap_aliases`` holds a strap's other ids (a dual-mode strap heard as ble:… and ant:…).
Downgrading gives the old spellings back and drops the aliases: the old schema has no place
for them.

Revision ID: 0007
Revises: 0006
Created: 2026-12-02
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The rules as of this revision, copied rather than imported: a migration must keep doing
# what it did when the app's own id rules move on.
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}")
_OLD_SIM = re.compile(r"SIM:00:00:00:00:([0-9A-Fa-f]{2}):([0-9A-Fa-f]{2})", re.IGNORECASE)
_NEW_SIM = re.compile(r"sim:([0-9]{1,5})")
_DIGITS = re.compile(r"[0-9]{1,7}")
_SIM_MAX = 0xFFFF  # the old form held the number in two bytes

_straps = sa.table("straps", sa.column("id", sa.Integer), sa.column("strap_key", sa.String),
                   sa.column("kind", sa.String))


def prefixed(key: str, kind: str | None) -> str:
    """``key`` in the form that names its radio; unchanged when it has no known form."""
    if _MAC.fullmatch(key):
        return "ble:" + key.replace("-", ":").upper()
    old_sim = _OLD_SIM.fullmatch(key)
    if old_sim:
        return f"sim:{int(old_sim[1] + old_sim[2], 16):04d}"
    if kind == "ant" and _DIGITS.fullmatch(key):
        return f"ant:{key}"
    return key


def bare(key: str, kind: str | None) -> str:
    """``key`` as revision 0006 stored it."""
    del kind  # the prefix says it all
    if key.startswith("ble:") and _MAC.fullmatch(key[4:]):
        return key[4:]
    new_sim = _NEW_SIM.fullmatch(key)
    if new_sim and int(new_sim[1]) <= _SIM_MAX:
        number = int(new_sim[1])
        return f"SIM:00:00:00:00:{number >> 8:02X}:{number & 0xFF:02X}"
    if key.startswith("ant:") and _DIGITS.fullmatch(key[4:]):
        return key[4:]
    return key


def _rewrite(spelling: Callable[[str, str | None], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_straps.c.id, _straps.c.strap_key, _straps.c.kind)).all()
    taken = {key for _, key, _ in rows}
    for strap_id, key, kind in rows:
        new = spelling(key, kind)
        if new == key or new in taken:
            continue
        bind.execute(_straps.update().where(_straps.c.id == strap_id).values(strap_key=new))
        taken.discard(key)
        taken.add(new)


def upgrade() -> None:
    op.create_table(
        "strap_aliases",
        sa.Column("strap_key", sa.String(64), nullable=False),
        sa.Column("strap_id", sa.Integer(), nullable=False),
        sa.Column("added_utc", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["strap_id"], ["straps.id"],
                                name="fk_strap_aliases_strap_id_straps", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("strap_key", name="pk_strap_aliases"),
    )
    op.create_index("ix_strap_aliases_strap_id", "strap_aliases", ["strap_id"])
    _rewrite(prefixed)


def downgrade() -> None:
    op.drop_index("ix_strap_aliases_strap_id", table_name="strap_aliases")
    op.drop_table("strap_aliases")
    _rewrite(bare)

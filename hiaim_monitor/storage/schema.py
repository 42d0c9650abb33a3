"""The session store's tables, as typed SQLAlchemy ORM classes.

The same schema serves SQLite (the embedded default) and PostgreSQL (a central database for a
multi-site trial); Alembic migrations in ``migrations/versions`` create and change it, and a
test checks that the two agree. Every time stamp is an aware UTC datetime on both backends.

Enumerations are stored as short strings without a CHECK constraint, so a new kind of event
or HRmax method needs no migration.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.hrmax import HRMaxMethod
from hiaim_monitor.programme.model import Attendance, DoseModification, MissedReason, Relatedness
from hiaim_monitor.protocols import PhaseKind

# Named constraints, so later migrations (and SQLite's batch mode) can find them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SIMULATED_STRAP_KIND = "simulated"  # straps.kind of a simulation's virtual strap


class SessionStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"  # left running by a crash; to be resumed or closed


class EventKind(StrEnum):
    PHASE_CHANGE = "phase-change"
    ALARM_RAISED = "alarm-raised"
    ALARM_CLEARED = "alarm-cleared"
    CONNECTION_CHANGE = "connection-change"
    GAP = "gap"  # no data were recorded for a while (the app was not running)
    STORAGE = "storage"  # the database failed for a while; detail says how many rows were lost
    ALARM_ACKNOWLEDGED = "alarm-acknowledged"  # the operator saw it
    NOTE = "note"  # the operator's note as it read then; the last one per participant counts


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time-zone type and SQLAlchemy would silently drop the offset of an aware
    value, so values are converted to UTC before they are stored and tagged UTC when read.
    PostgreSQL stores ``timestamptz`` and returns it in the session's zone: converted too.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a naive datetime ({value.isoformat()}) cannot be stored: "
                             "give an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _values(enum_cls: type[Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


def _enum(enum_cls: type[Enum], length: int) -> sa.Enum:
    return sa.Enum(enum_cls, native_enum=False, create_constraint=False, length=length,
                   values_callable=_values, validate_strings=True)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# None stored as SQL NULL (not the JSON value null), for a column that is often empty.
JsonOrNull = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class ParticipantRow(Base):
    """A person in the study. Known by a pseudonymous code; the wall screen shows only
    ``display_name``."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    birth_year: Mapped[int | None]
    sex: Mapped[Sex | None] = mapped_column(_enum(Sex, 16))
    hrmax_bpm: Mapped[float | None]
    hrmax_method: Mapped[HRMaxMethod | None] = mapped_column(_enum(HRMaxMethod, 16))
    hrmax_date: Mapped[date | None]  # when the test was done or the estimate made
    resting_bpm: Mapped[float | None]
    beta_blocker: Mapped[bool] = mapped_column(default=False)  # HR targets may not apply
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    # A simulation's virtual participant: never on a real class's roster.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # No longer training: off the roster and out of real classes; the sessions stay.
    archived: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class StrapRow(Base):
    """One physical strap, under the first id it was known by; its other ids (a dual-mode
    strap heard over BLE and ANT+) are in ``strap_aliases``."""

    __tablename__ = "straps"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A strap id naming its radio (hiaim_monitor.strap_ids): ble:AA:BB:…, ant:12345, sim:0001.
    strap_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    kind: Mapped[str] = mapped_column(sa.String(32), default="")  # "ble", "ant", "simulated"
    battery_pct: Mapped[int | None]  # last reading
    battery_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StrapAliasRow(Base):
    """Another id the same physical strap is heard by. An id names one strap: the registry
    (storage/straps.py) never lets an alias equal any strap's ``strap_key``."""

    __tablename__ = "strap_aliases"

    strap_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    strap_id: Mapped[int] = mapped_column(sa.ForeignKey("straps.id", ondelete="CASCADE"),
                                          index=True)
    added_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class StrapAssignmentRow(Base):
    """The strap a participant wears by default; one strap belongs to at most one person."""

    __tablename__ = "strap_assignments"

    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True)
    strap_id: Mapped[int] = mapped_column(sa.ForeignKey("straps.id", ondelete="CASCADE"),
                                          unique=True)
    assigned_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (sa.Index(None, "status", "host"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_key: Mapped[str] = mapped_column(sa.String(64))
    protocol: Mapped[dict[str, Any]] = mapped_column(Json)  # the protocol as it ran
    operator: Mapped[str] = mapped_column(sa.String(100), default="")
    site: Mapped[str] = mapped_column(sa.String(100), default="")
    # The machine that ran it: with a central database, a session running at another site
    # is not one this machine left behind in a crash.
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    started_utc: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[SessionStatus] = mapped_column(_enum(SessionStatus, 16))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Simulated participants, not people: kept apart from the trial's data.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Liveness: the writer stamps heartbeat_utc with every commit (and every few seconds
    # when idle); with host and pid it tells a session still recording from a dead one.
    heartbeat_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pid: Mapped[int | None] = mapped_column(sa.Integer)


class SessionParticipantRow(Base):
    """One participant in one session, with the strap worn and the HRmax used that day."""

    __tablename__ = "session_participants"
    __table_args__ = (sa.UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    strap_id: Mapped[int | None] = mapped_column(sa.ForeignKey("straps.id"))
    hrmax_bpm: Mapped[float]
    hrmax_method: Mapped[HRMaxMethod] = mapped_column(_enum(HRMaxMethod, 16))
    resting_bpm: Mapped[float | None]
    ceiling_pct: Mapped[float | None]  # own safety ceiling, % HRmax; None: the protocol's
    notes: Mapped[str] = mapped_column(sa.Text, default="")  # the operator's, this session


class SampleRow(Base):
    """One heart-rate sample as the engine judged it."""

    __tablename__ = "samples"
    __table_args__ = (sa.Index(None, "session_participant_id", "t_s"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("session_participants.id", ondelete="CASCADE"))
    t_s: Mapped[float]  # session clock: seconds since the session started
    wall_utc: Mapped[datetime] = mapped_column(UTCDateTime)  # arrival, as the driver stamped
    bpm: Mapped[int]
    pct_hrmax: Mapped[float | None]  # None when the heart rate is implausible
    level: Mapped[int] = mapped_column(sa.SmallInteger)  # engine.codes.Level
    flags: Mapped[int] = mapped_column(sa.SmallInteger)  # engine.codes.SampleFlag bits
    # As the strap sent it. Rows stored before 0008 said not_detected or detected only (a
    # strap that cannot sense contact was stored as detected).
    contact: Mapped[SensorContact] = mapped_column(_enum(SensorContact, 16))
    # Energy expended since the strap's last reset, as sent (uint16, kJ); NULL when it sent
    # none, and in rows stored before 0008.
    energy_kj: Mapped[int | None] = mapped_column(sa.Integer)


class RRIntervalRow(Base):
    """One beat: its RR interval and the beat time rebuilt from the RR values."""

    __tablename__ = "rr_intervals"
    __table_args__ = (sa.Index(None, "session_participant_id", "t_s"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("session_participants.id", ondelete="CASCADE"))
    t_s: Mapped[float]  # beat time, session clock
    rr_ms: Mapped[float]
    flags: Mapped[int] = mapped_column(sa.SmallInteger)  # engine.codes.BeatFlag bits


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (sa.Index(None, "session_id", "t_s"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    session_participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("session_participants.id", ondelete="CASCADE"))
    t_s: Mapped[float]  # session clock
    wall_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, 32))
    detail: Mapped[dict[str, Any]] = mapped_column(Json)


class PhaseAdherenceRow(Base):
    """How one participant did in one work phase or one block of short bouts
    (engine.adherence.PhaseAdherence)."""

    __tablename__ = "phase_adherence"
    __table_args__ = (sa.UniqueConstraint("session_participant_id", "phase_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("session_participants.id", ondelete="CASCADE"))
    phase_index: Mapped[int]  # into the session's protocol phases
    phase_name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[PhaseKind] = mapped_column(_enum(PhaseKind, 16))
    start_s: Mapped[float]
    end_s: Mapped[float]
    target_level: Mapped[int] = mapped_column(sa.SmallInteger)  # engine.codes.Level
    seconds_in_target: Mapped[float]
    seconds_above_target: Mapped[float]
    seconds_below_target: Mapped[float]
    seconds_no_data: Mapped[float]
    fraction_in_target_after_ramp: Mapped[float]
    time_to_target_s: Mapped[float | None]
    peak_pct: Mapped[float | None]  # % HRmax
    achieved: Mapped[bool]  # False when not judged
    planned_s: Mapped[float | None]  # prescribed length; NULL in rows stored before 0004
    ran_s: Mapped[float | None]  # countdown time it ran, pauses left out
    # False: cut short (skip, stop) before it ran the protocol's min_judged_fraction, so
    # neither achieved nor missed. Rows stored before 0004 were all judged.
    judged: Mapped[bool] = mapped_column(server_default=sa.true())
    # A block of short bouts judged as a whole (engine.blocks), stored under its first
    # phase; NULL for a long phase (and in rows stored before 0010). For a block
    # seconds_in_target is the time at or above target_pct over the whole block, rests
    # included, and fraction_in_target_after_ramp that time over its running time.
    block_index: Mapped[int | None]  # into the session's protocol blocks
    target_pct: Mapped[float | None]  # the block's target_min_pct, % HRmax
    achieved_by: Mapped[str | None] = mapped_column(sa.String(16))  # peak, time or bouts
    bout_peaks_pct: Mapped[list[float | None] | None] = mapped_column(JsonOrNull)  # per bout


class WriterProgressRow(Base):
    """How far one session writer has got, committed with each batch: a batch retried after
    a commit whose acknowledgement was lost (a network drop at the wrong moment) skips what
    is already stored instead of storing it twice."""

    __tablename__ = "writer_progress"

    writer_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)  # a uuid4
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    end_seq: Mapped[int] = mapped_column(sa.BigInteger)  # entries below this are stored
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Above one session: the programme (DESIGN.md). A programme plans each enrolled
# participant's sessions; every planned session ends up attended, missed (with a reason) or
# cancelled by the site, and carries what happened to that participant in it: Borg RPE,
# dose modifications, an early termination, adverse events. Every record keeps when it was
# made and when it was last edited (UTC), since all of them can be corrected afterwards.


# The choices (attendance, missed reason, dose modification, relatedness) are the
# programme model's enums, stored as their values: one set of choices for storage and metrics.


class ProgrammeRow(Base):
    """A programme: e.g. HI AIM's 18 supervised sessions, 3 a week for 6 weeks, at one site."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    site: Mapped[str] = mapped_column(sa.String(100), default="")
    start_date: Mapped[date]
    weeks: Mapped[int] = mapped_column(default=6, server_default="6")
    sessions_per_week: Mapped[int] = mapped_column(default=3, server_default="3")
    # The planned weekdays, 0 = Monday (e.g. [0, 2, 4]); as many as sessions_per_week.
    weekdays: Mapped[list[int]] = mapped_column(Json)
    # The protocol key each week runs, {"1": "hi-aim", ...} (CERT item 7: progression);
    # NULL: no protocol is planned per week.
    protocol_by_week: Mapped[dict[str, str] | None] = mapped_column(Json)
    # A simulation's programme (make demo): only simulated participants, never real ones.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class EnrolmentRow(Base):
    """A participant in a programme; withdrawn = permanent discontinuation."""

    __tablename__ = "programme_enrolments"
    __table_args__ = (sa.UniqueConstraint("programme_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    enrolled_on: Mapped[date]
    withdrawn_on: Mapped[date | None]
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class PlannedSessionRow(Base):
    """One session planned for one enrolled participant (week 1.., number 1.. in the week),
    its attendance once known, and the recorded session it became."""

    __tablename__ = "planned_sessions"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "week", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme_enrolments.id", ondelete="CASCADE"))
    week: Mapped[int]
    number: Mapped[int]  # within the week
    planned_on: Mapped[date]
    # The recorded session; a session deleted later leaves the plan and its attendance.
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    attendance: Mapped[Attendance | None] = mapped_column(_enum(Attendance, 16))  # None: not yet
    missed_reason: Mapped[MissedReason | None] = mapped_column(_enum(MissedReason, 32))
    attendance_note: Mapped[str] = mapped_column(sa.Text, default="")  # free text
    attendance_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last recorded
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class RPERow(Base):
    """Borg RPE (6–20) after a work phase or block (its index in the session's protocol),
    or once at the end of the session (phase_index NULL)."""

    __tablename__ = "rpe_ratings"
    __table_args__ = (sa.Index(None, "planned_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("planned_sessions.id", ondelete="CASCADE"))
    phase_index: Mapped[int | None]
    borg: Mapped[int] = mapped_column(sa.SmallInteger)
    recorded_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class DoseModificationRow(Base):
    __tablename__ = "dose_modifications"
    __table_args__ = (sa.Index(None, "planned_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("planned_sessions.id", ondelete="CASCADE"))
    # What was reduced (intensity or duration) and why (health-related or other), as one.
    modification: Mapped[DoseModification] = mapped_column(_enum(DoseModification, 32))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class EarlyTerminationRow(Base):
    """The participant stopped before the session's end; at most one per planned session."""

    __tablename__ = "early_terminations"

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("planned_sessions.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    recorded_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class AdverseEventRow(Base):
    """An adverse event in a session: what, its grade (CTCAE-style 1–5), whether it is
    related to the exercise, and the action taken."""

    __tablename__ = "adverse_events"
    __table_args__ = (sa.Index(None, "planned_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    planned_session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("planned_sessions.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(sa.Text)
    grade: Mapped[int] = mapped_column(sa.SmallInteger)
    related: Mapped[Relatedness] = mapped_column(_enum(Relatedness, 16))
    action: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime)

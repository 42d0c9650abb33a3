"""Alembic migrations: an empty database gets the whole schema; running them again on a
database with data changes nothing and loses nothing; the models match the migrations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hiaim_monitor.engine.codes import Level
from hiaim_monitor.hrm import SensorContact
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.storage import SampleRecord, open_database, start_session, upgrade
from hiaim_monitor.storage.migrate import current_revision, head_revision
from hiaim_monitor.storage.schema import Base, SampleRow, SessionRow
from tests.storage.helpers import START_UTC, Backend, fast_writer, roster


def test_upgrade_gives_an_empty_database_every_table(backend: Backend):
    upgrade(backend.url)
    engine = sa.create_engine(backend.url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert current_revision(conn) == head_revision()
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_again_keeps_the_data(backend: Backend):
    with open_database(backend.url) as db:
        stored = start_session(db, load_protocol("hi-aim"), roster(2), started_utc=START_UTC)
        sp = next(iter(stored.session_participant_ids.values()))
        with fast_writer(db, stored) as writer:
            writer.submit_samples(
                SampleRecord(sp, float(t), START_UTC, 120, 65.0, int(Level.BELOW), 0,
                             SensorContact.DETECTED) for t in range(50))

    upgrade(backend.url)
    with open_database(backend.url) as db, db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(SampleRow)) == 50
        assert s.scalars(sa.select(SessionRow.protocol_key)).all() == ["hi-aim"]
        with db.engine.connect() as conn:
            assert current_revision(conn) == head_revision()


def test_rows_an_older_simulation_left_in_a_real_database_are_flagged_simulated(
        backend: Backend):
    from alembic import command

    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0003")  # before the flag existed
            now = START_UTC.replace(tzinfo=None)
            conn.execute(sa.text(
                "insert into participants (id, study_code, display_name, beta_blocker, notes, "
                "created_utc) values (1, 'SIM-001', 'Anne', false, 'simulated participant', "
                ":t), (2, 'SIM-002', 'Bo', false, '', :t), (3, 'HIAIM-001', 'Cy', false, "
                "'', :t)"), {"t": now})
            conn.execute(sa.text("insert into straps (id, strap_key, name, kind) values "
                                 "(1, 'SIM:00:00:00:00:00:02', '', 'simulated'), "
                                 "(2, 'AA:00:00:00:00:01', '', 'ble')"))
            conn.execute(sa.text("insert into strap_assignments values (2, 1, :t), (3, 2, :t)"),
                         {"t": now})
            conn.execute(sa.text(
                "insert into sessions (id, protocol_key, protocol, operator, site, host, "
                "started_utc, status, notes) values (1, 'hi-aim', '{}', '', '', '', :t, "
                "'finished', ''), (2, 'hi-aim', '{}', '', '', '', :t, 'finished', '')"),
                {"t": now})
            conn.execute(sa.text(
                "insert into session_participants (session_id, participant_id, hrmax_bpm, "
                "hrmax_method, notes) values (1, 1, 170, 'measured', ''), "
                "(2, 3, 170, 'measured', '')"))
        upgrade(backend.url)
        with engine.connect() as conn:
            people = conn.execute(sa.text(
                "select study_code, simulated, archived from participants order by id")).all()
            sessions = conn.execute(sa.text(
                "select id, simulated from sessions order by id")).all()
    finally:
        engine.dispose()
    assert [(c, bool(s), bool(a)) for c, s, a in people] == [
        ("SIM-001", True, False), ("SIM-002", True, False), ("HIAIM-001", False, False)]
    assert [(i, bool(s)) for i, s in sessions] == [(1, True), (2, False)]


OLD_STRAPS = [  # (id, strap_key as revision 0006 stored it, kind, as 0007 stores it)
    (1, "AA:BB:CC:DD:EE:01", "ble", "ble:AA:BB:CC:DD:EE:01"),
    (2, "SIM:00:00:00:00:00:02", "simulated", "sim:0002"),
    (3, "SIM:00:00:00:00:01:02", "simulated", "sim:0258"),  # 0x0102: strap_id_for(258)
    (4, "4711", "ant", "ant:4711"),
    (5, "STRAP-001", "", "STRAP-001"),  # no known form: kept, still found as it is
    (6, "ble:AA:BB:CC:DD:EE:06", "ble", "ble:AA:BB:CC:DD:EE:06"),  # prefixed already
    # The same strap twice: its new spelling is taken, so it stays as it was.
    (7, "aa-bb-cc-dd-ee-06", "ble", "aa-bb-cc-dd-ee-06"),
]


def old_database_with_straps(conn) -> None:
    """Revision 0006 with straps in every stored form, worn, and recorded in a session."""
    from alembic import command

    from hiaim_monitor.storage.migrate import alembic_config

    command.upgrade(alembic_config(conn), "0006")
    now = START_UTC.replace(tzinfo=None)
    conn.execute(sa.text(
        "insert into participants (id, study_code, display_name, beta_blocker, notes, "
        "created_utc, simulated, archived, hrmax_bpm, hrmax_method) values "
        "(1, 'HIAIM-001', 'Ann', false, '', :t, false, false, 180, 'measured'), "
        "(2, 'SIM-002', 'Bo', false, '', :t, true, false, 170, 'measured')"), {"t": now})
    conn.execute(sa.text("insert into straps (id, strap_key, name, kind) values "
                         + ", ".join(f"({i}, '{key}', '', '{kind}')"
                                     for i, key, kind, _ in OLD_STRAPS)))
    conn.execute(sa.text("insert into strap_assignments values (1, 1, :t), (2, 2, :t)"),
                 {"t": now})
    conn.execute(sa.text(
        "insert into sessions (id, protocol_key, protocol, operator, site, host, started_utc, "
        "status, notes, simulated) values (1, 'hi-aim', '{}', '', '', '', :t, 'finished', '', "
        "false)"), {"t": now})
    conn.execute(sa.text(
        "insert into session_participants (session_id, participant_id, strap_id, hrmax_bpm, "
        "hrmax_method, notes) values (1, 1, 1, 180, 'measured', '')"))


def stored_straps(engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "select id, strap_key from straps order by id"))]


def test_stored_strap_ids_get_their_radio_and_an_old_database_stays_usable(backend: Backend):
    from hiaim_monitor.admin import session_info
    from hiaim_monitor.storage import strap_registry
    from hiaim_monitor.storage.assignments import assigned_class

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            old_database_with_straps(conn)
        upgrade(backend.url)
        assert stored_straps(engine) == [(i, new) for i, _, _, new in OLD_STRAPS]
    finally:
        engine.dispose()
    with open_database(backend.url) as db:
        # Who wears what, and what was recorded with which strap, survive the rewrite.
        people = assigned_class(db, ["aa:bb:cc:dd:ee:01"])
        assert [(p.study_code, p.strap_id) for p in people] == [
            ("HIAIM-001", "ble:AA:BB:CC:DD:EE:01")]
        worn = {s.strap_key: s.study_code for s in strap_registry.list_straps(db)}
        assert worn["sim:0002"] == "SIM-002"
        shown = session_info.show_session(db, 1)
        assert [m.strap_key for m in shown.participants] == ["ble:AA:BB:CC:DD:EE:01"]
        # An id the migration could not name is still found by its exact text.
        strap_registry.assign_strap(db, "STRAP-001", "HIAIM-001")
        assert strap_registry.find_strap(db, "STRAP-001").study_code == "HIAIM-001"
        # The new table takes a second id of a migrated strap.
        strap_registry.add_strap_id(db, "sim:258", "ble:00:00:00:00:01:02")
        assert strap_registry.find_strap(db, "ble:00:00:00:00:01:02").strap_key == "sim:0258"


def test_downgrading_gives_the_old_strap_ids_back(backend: Backend):
    from alembic import command

    from hiaim_monitor.storage import strap_registry
    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            old_database_with_straps(conn)
        with open_database(backend.url) as db:
            strap_registry.add_strap_id(db, "AA:BB:CC:DD:EE:01", "ant:12345")
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0006")
        with engine.connect() as conn:
            assert current_revision(conn) == "0006"
            assert "strap_aliases" not in sa.inspect(conn).get_table_names()
        assert stored_straps(engine) == [
            (i, old if old != "ble:AA:BB:CC:DD:EE:06" else "AA:BB:CC:DD:EE:06")
            for i, old, _, _ in OLD_STRAPS]
    finally:
        engine.dispose()


def insert_old_session(conn: sa.Connection, *, hrmax_bpm: float,
                       registered_hrmax: bool = False) -> datetime:
    """One participant (OLD-001) in one finished session (1000), inserted the way an older
    schema takes them, with ids far from those the database hands out next (PostgreSQL's
    sequences do not know about these). Returns the naive UTC time they carry."""
    now = START_UTC.replace(tzinfo=None)
    hrmax_columns, hrmax_values = ((", hrmax_bpm, hrmax_method", f", {hrmax_bpm}, 'measured'")
                                   if registered_hrmax else ("", ""))
    conn.execute(sa.text(
        "insert into participants (id, study_code, display_name, beta_blocker, notes, "
        f"created_utc{hrmax_columns}) values (1000, 'OLD-001', 'Cy', false, '', :t"
        f"{hrmax_values})"), {"t": now})
    conn.execute(sa.text(
        "insert into sessions (id, protocol_key, protocol, operator, site, host, "
        "started_utc, status, notes) values (1000, 'hi-aim', '{}', '', '', '', :t, "
        "'finished', '')"), {"t": now})
    conn.execute(sa.text(
        "insert into session_participants (id, session_id, participant_id, hrmax_bpm, "
        f"hrmax_method, notes) values (1000, 1000, 1000, {hrmax_bpm}, 'measured', '')"))
    return now


def test_samples_stored_before_0008_stay_readable_and_new_ones_keep_energy(backend: Backend):
    from alembic import command

    from hiaim_monitor.exports import data
    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0006")  # before energy_kj existed
            now = insert_old_session(conn, hrmax_bpm=170)
            conn.execute(sa.text(
                "insert into samples (session_participant_id, t_s, wall_utc, bpm, pct_hrmax, "
                "level, flags, contact) values (1000, 1.0, :t, 120, 70.6, 1, 0, 'detected')"),
                {"t": now})
    finally:
        engine.dispose()
    with open_database(backend.url) as db:  # migrates to the head
        stored = start_session(db, load_protocol("hi-aim"), roster(1), started_utc=START_UTC)
        sp = next(iter(stored.session_participant_ids.values()))
        with fast_writer(db, stored) as writer:
            writer.submit_samples([SampleRecord(sp, 2.0, START_UTC, 121, 71.0, int(Level.BELOW),
                                                0, SensorContact.NOT_SUPPORTED, 512)])
        old = data.samples(db, 1000)
        new = data.samples(db, sp)
    assert [(r.bpm, r.contact, r.energy_kj) for r in old] == [
        (120, SensorContact.DETECTED, None)]
    assert [(r.bpm, r.contact, r.energy_kj) for r in new] == [
        (121, SensorContact.NOT_SUPPORTED, 512)]


def test_upgrading_from_0008_keeps_the_rows_and_takes_programmes(backend: Backend):
    from datetime import date

    from alembic import command

    from hiaim_monitor.storage import programmes
    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0008")  # before programmes existed
            insert_old_session(conn, hrmax_bpm=180, registered_hrmax=True)
        upgrade(backend.url)
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert conn.execute(sa.text("select study_code from participants")).all() == [
                ("OLD-001",)]
            assert conn.execute(sa.text(
                "select participant_id from session_participants")).all() == [(1000,)]
    finally:
        engine.dispose()
    with open_database(backend.url) as db:
        programmes.create_programme(db, "HI AIM", start_date=date(2026, 3, 2))
        programmes.enrol(db, "HI AIM", "OLD-001", enrolled_on=date(2026, 3, 2))
        assert programmes.plan_sessions(db, "HI AIM") == 18
        programmes.record_attendance(db, "HI AIM", "OLD-001", 1, 1, "attended",
                                     session_id=1000)
        assert programmes.planned_session_of(db, 1000, "OLD-001") == ("HI AIM", 1, 1)


def test_downgrading_0009_drops_only_the_programme_tables(backend: Backend):
    from alembic import command

    from hiaim_monitor.storage.migrate import alembic_config

    upgrade(backend.url)
    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0008")
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert current_revision(conn) == "0008"
    finally:
        engine.dispose()
    assert "programmes" not in tables and "planned_sessions" not in tables
    assert {"participants", "sessions", "samples"} <= tables

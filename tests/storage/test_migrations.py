"""Alembic migrations: an empty database gets the whole schema; running them again on a
database with data changes nothing and loses nothing; the models match the migrations."""

from __future__ import annotations

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


def test_samples_stored_before_0008_stay_readable_and_new_ones_keep_energy(backend: Backend):
    from alembic import command

    from hiaim_monitor.exports import data
    from hiaim_monitor.storage.migrate import alembic_config

    engine = sa.create_engine(backend.url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0006")  # before energy_kj existed
            # Ids far from those the database hands out next (PostgreSQL's sequences do not
            # know about these).
            now = START_UTC.replace(tzinfo=None)
            conn.execute(sa.text(
                "insert into participants (id, study_code, display_name, beta_blocker, notes, "
                "created_utc) values (1000, 'OLD-001', 'Cy', false, '', :t)"), {"t": now})
            conn.execute(sa.text(
                "insert into sessions (id, protocol_key, protocol, operator, site, host, "
                "started_utc, status, notes) values (1000, 'hi-aim', '{}', '', '', '', :t, "
                "'finished', '')"), {"t": now})
            conn.execute(sa.text(
                "insert into session_participants (id, session_id, participant_id, hrmax_bpm, "
                "hrmax_method, notes) values (1000, 1000, 1000, 170, 'measured', '')"))
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

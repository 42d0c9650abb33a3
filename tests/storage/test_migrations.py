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

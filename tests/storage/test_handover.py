"""What a strap sent reaches the database as it was sent (SQLite and PostgreSQL): the arrival
time its driver stamped, the contact status (not supported / not detected / detected) and the
energy expended."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.hrm import SensorContact, encode_heart_rate_measurement
from hiaim_monitor.hrmax import measured_hrmax
from hiaim_monitor.participants import Participant
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.samples import sample_from_notification
from hiaim_monitor.storage.schema import SampleRow
from tests.storage.helpers import live_recording

STEP_AT_S = 5.0  # the computer's wall clock is stepped here (NTP), the monotonic one is not
STEP = timedelta(seconds=1.5, microseconds=417)


class DriverClock:
    """The clock a driver stamps arrivals with: monotonic time as the session's, wall time
    stepped forward once, as NTP does after a laptop wakes up."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock

    def monotonic(self) -> float:
        return self.clock.monotonic()

    def now_utc(self):
        stepped = self.clock.monotonic() >= STEP_AT_S
        return self.clock.now_utc() + (STEP if stepped else timedelta(microseconds=3))


def stored_samples(db, sp: int) -> list[SampleRow]:
    with db.session() as s:
        return list(s.scalars(sa.select(SampleRow)
                              .where(SampleRow.session_participant_id == sp)
                              .order_by(SampleRow.t_s)))


def test_a_stored_sample_keeps_its_arrival_time_contact_as_sent_and_energy(db):
    clock = SimulatedClock()
    driver = DriverClock(clock)
    people = [Participant("P1", "Anna", "A", measured_hrmax(180)),  # a strap that senses skin
              Participant("P2", "Bo", "B", measured_hrmax(180))]  # one that cannot
    recorded, _, stored, events = live_recording(db, load_protocol("hi-aim"), people, clock)
    sent = {"A": [], "B": []}
    for i in range(10):
        for strap, contact in (("A", SensorContact.DETECTED if i != 3
                                else SensorContact.NOT_DETECTED),
                               ("B", SensorContact.NOT_SUPPORTED)):
            energy_kj = 40 + i if i % 3 == 0 else None  # sent now and then, as straps do
            ev = sample_from_notification(strap, encode_heart_rate_measurement(
                130, sensor_contact=contact, energy_expended_kj=energy_kj), driver)
            events.put(ev)
            sent[strap].append(ev)
        snap = recorded.tick()
        clock.advance(1.0)
    # A strap that cannot tell contact is trusted like one on the skin.
    assert snap.participants[1].bpm == 130
    assert recorded.finish(wait_s=20.0).stored

    for strap, pid in (("A", "P1"), ("B", "P2")):
        rows = stored_samples(db, stored.session_participant_ids[pid])
        assert [r.wall_utc for r in rows] == [ev.wall_utc for ev in sent[strap]]
        assert [r.contact for r in rows] == [ev.contact for ev in sent[strap]]
        assert [r.energy_kj for r in rows] == [ev.energy_kj for ev in sent[strap]]
        # Not what the session clock would say: the stamp, not a rebuilt time.
        assert all(r.wall_utc != stored.started_utc + timedelta(seconds=r.t_s) for r in rows)
    b_contacts = {r.contact for r in stored_samples(db, stored.session_participant_ids["P2"])}
    assert b_contacts == {SensorContact.NOT_SUPPORTED}

"""AntStrapHub through openant's real Node, Channel and Ant code, over emulated ANT USB sticks
(a pyusb backend speaking the ANT serial protocol) carrying emulated ANT+ straps.

The hub is production code unchanged: the emulated backend goes where production passes
None (the bundled libusb). RR intervals are compared with the beats the emulated straps
made, to the tick of 1/1024 s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from drivers.ant import AntStrapHub, NoAntStick
from hiaim_monitor.samples import (
    BatteryReading,
    PacketDropped,
    StrapSighting,
    StrapState,
)
from hiaim_monitor.strap_notes import StrapReason
from simulators.ant_stick import BROADCAST, frame
from tests.conftest import wait_until
from tests.drivers.ant_rig import AntRig, check_rr, strap_id


@pytest.fixture
async def running() -> AsyncIterator[list[tuple[AntRig, AntStrapHub]]]:
    started: list[tuple[AntRig, AntStrapHub]] = []
    yield started
    for rig, hub in started:
        await hub.stop()
        rig.air.stop()


async def start(running: list[tuple[AntRig, AntStrapHub]], rig: AntRig,
                **kwargs: object) -> AntStrapHub:
    rig.air.start()
    hub = rig.hub(**kwargs)
    running.append((rig, hub))
    await hub.start(rig.events.append)
    return hub


async def test_every_strap_is_sighted_and_watched_ones_stream_their_true_beats(running):
    rig = AntRig(3, legacy=False)
    rig.straps[2].legacy = True  # page 0 only, no toggle
    hub = await start(running, rig)
    ids = [strap_id(s) for s in rig.straps]
    await wait_until(lambda: {e.strap_id for e in rig.events
                              if isinstance(e, StrapSighting)} == set(ids),
                     "every strap sighted")
    sighting = next(e for e in rig.events if isinstance(e, StrapSighting))
    assert sighting.name.startswith("ANT+ HR ") and sighting.rssi_dbm is not None
    await hub.watch(ids[0], "one")
    await hub.watch(ids[2], "legacy")
    for i in (0, 2):
        await wait_until(lambda i=i: sum(len(s.rr_ms) for s in rig.samples(ids[i])) >= 6,
                         f"strap {i} streams RR")
    assert [s.state for s in rig.states(ids[0])][:2] == [StrapState.CONNECTING,
                                                        StrapState.STREAMING]
    assert not rig.samples(ids[1]), "a strap not watched sends no samples"
    for i in (0, 2):
        check = check_rr(rig.samples(ids[i]),
                         rig.air.true_beats_1024(rig.straps[i].device_number))
        assert check.invented == 0 and check.exact >= 6
    await wait_until(lambda: any(isinstance(e, BatteryReading) and e.strap_id == ids[0]
                                 and e.level_pct == 90 for e in rig.events),
                     "the battery from page 7")
    assert hub.rssi and hub.sticks == ["1001"]
    await hub.unwatch(ids[0])
    assert rig.state_of(ids[0]) is StrapState.STOPPED


async def test_a_20_bit_device_number_names_the_strap(running):
    rig = AntRig(1)
    rig.straps[0].device_number = 0x1_2345
    rig.straps[0].transmission_type = 0x11
    hub = await start(running, rig)
    await hub.watch("ant:74565", "wide")
    await wait_until(lambda: rig.samples("ant:74565"), "the strap with a 20-bit number streams")


async def test_dropped_pages_lose_beats_but_invent_none(running):
    rig = AntRig(2, drop_fraction=0.35)
    hub = await start(running, rig)
    ids = [strap_id(s) for s in rig.straps]
    for sid in ids:
        await hub.watch(sid, sid)
    await wait_until(lambda: all(sum(len(s.rr_ms) for s in rig.samples(i)) >= 8 for i in ids),
                     "both straps stream RR through the gaps")
    for strap, sid in zip(rig.straps, ids, strict=True):
        check = check_rr(rig.samples(sid), rig.air.true_beats_1024(strap.device_number))
        assert check.invented == 0
        assert check.exact < check.true_beats - 1, "some beats were lost with their pages"
        assert strap.dropped_pages > 0


async def test_beat_count_and_event_time_roll_over_exactly(running):
    rig = AntRig(1, beat_count_start=250, event_time_start_1024=65_536 - 3 * 1024)
    hub = await start(running, rig)
    sid = strap_id(rig.straps[0])
    await hub.watch(sid, "rolling")
    beats = lambda: rig.air.true_beats_1024(rig.straps[0].device_number)  # noqa: E731
    await wait_until(lambda: len(beats()) > 12, "the strap's count and time have wrapped")
    await wait_until(lambda: sum(len(s.rr_ms) for s in rig.samples(sid)) >= 10, "RR streams")
    check = check_rr(rig.samples(sid), beats())
    assert check.invented == 0 and check.exact >= 10
    assert beats()[-1] > 65_536 and 250 + len(beats()) > 256


async def test_a_strap_switched_off_goes_quiet_and_streams_again_when_on(running):
    rig = AntRig(1)
    hub = await start(running, rig)
    strap = rig.straps[0]
    sid = strap_id(strap)
    await hub.watch(sid, "on and off")
    await wait_until(lambda: rig.state_of(sid) is StrapState.STREAMING, "streaming")
    rig.air.switch_off(strap.device_number)
    await wait_until(lambda: rig.state_of(sid) is StrapState.RECONNECTING, "reported quiet")
    assert rig.states(sid)[-1].note.reason is StrapReason.ANT_SILENT
    before = sum(len(s.rr_ms) for s in rig.samples(sid))
    rig.air.switch_on(strap.device_number)
    await wait_until(lambda: rig.state_of(sid) is StrapState.STREAMING, "streaming again")
    await wait_until(lambda: sum(len(s.rr_ms) for s in rig.samples(sid)) >= before + 4,
                     "RR again after the restart")
    check = check_rr(rig.samples(sid), rig.air.true_beats_1024(strap.device_number))
    assert check.invented == 0


async def test_a_pulled_stick_is_reported_and_its_straps_return_with_it(running):
    rig = AntRig(2)
    hub = await start(running, rig)
    ids = [strap_id(s) for s in rig.straps]
    for sid in ids:
        await hub.watch(sid, sid)
    await wait_until(lambda: all(rig.state_of(i) is StrapState.STREAMING for i in ids),
                     "streaming")
    rig.stick(1001).unplug()
    await wait_until(lambda: all(rig.state_of(i) is StrapState.LOST for i in ids),
                     "every strap of the stick reported lost")
    note = rig.states(ids[0])[-1].note
    assert note.reason is StrapReason.ANT_STICK_LOST and "1001" in note.english()
    await wait_until(lambda: hub.sticks == [], "the pulled stick closed")
    count = len(rig.samples(ids[0]))
    rig.stick(1001).plug()
    await wait_until(lambda: all(rig.state_of(i) is StrapState.STREAMING for i in ids),
                     "streaming again once the stick is back", timeout_s=20)
    await wait_until(lambda: sum(len(s.rr_ms) for s in rig.samples(ids[0])[count:]) >= 3,
                     "RR again")
    assert hub.sticks == ["1001"]
    for strap, sid in zip(rig.straps, ids, strict=True):
        assert check_rr(rig.samples(sid), rig.air.true_beats_1024(strap.device_number)
                        ).invented == 0


async def test_sticks_chosen_by_serial_hear_a_strap_once(running):
    rig = AntRig(2, sticks=(1001, 1002, 1003))
    hub = await start(running, rig, sticks=("1001", "1003"))
    assert sorted(hub.sticks) == ["1001", "1003"]
    assert not rig.stick(1002).scanning, "a stick not chosen is left alone"
    sid = strap_id(rig.straps[0])
    await hub.watch(sid, "twice heard")
    await wait_until(lambda: sum(len(s.rr_ms) for s in rig.samples(sid)) >= 8, "RR streams")
    assert rig.stick(1001).pages_passed_on and rig.stick(1003).pages_passed_on
    check = check_rr(rig.samples(sid), rig.air.true_beats_1024(rig.straps[0].device_number))
    assert check.invented == 0, "a page heard on two sticks counts once"
    # Losing one of the two sticks loses nothing: the other still hears the strap.
    rig.stick(1001).unplug()
    await wait_until(lambda: hub.sticks == ["1003"], "the pulled stick closed")
    n = len(rig.samples(sid))
    await wait_until(lambda: len(rig.samples(sid)) >= n + 4, "still streaming on 1003")
    assert rig.state_of(sid) is StrapState.STREAMING


async def test_a_garbled_message_or_page_is_counted_and_dropped(running):
    rig = AntRig(1)
    hub = await start(running, rig)
    sid = strap_id(rig.straps[0])
    await hub.watch(sid, "garbled")
    await wait_until(lambda: rig.samples(sid), "streaming")
    number = rig.straps[0].device_number
    ext = [0x80, number & 0xFF, number >> 8, 120, 0x01]
    bad_checksum = bytearray(frame(BROADCAST, [0, *range(8), *ext]))
    bad_checksum[-1] ^= 0xFF
    short_page = frame(BROADCAST, [0, 4, 0xFF, 1, 2, 3, *ext])  # 5 bytes of page
    rig.stick(1001).inject(bytes(bad_checksum) + short_page)
    await wait_until(lambda: any(isinstance(e, PacketDropped) for e in rig.events),
                     "the short page dropped")
    dropped = next(e for e in rig.events if isinstance(e, PacketDropped))
    assert dropped.strap_id == sid and "8 bytes" in dropped.reason
    await wait_until(lambda: hub.dropped >= 2, "both counted")
    n = len(rig.samples(sid))
    await wait_until(lambda: len(rig.samples(sid)) > n + 2, "the stick still streams")


async def test_no_stick_is_one_sentence():
    rig = AntRig(1, sticks=())
    hub = rig.hub()
    with pytest.raises(NoAntStick, match=r"^No ANT USB stick found: plug in an ANTUSB2"):
        await hub.start(rig.events.append)
    rig2 = AntRig(1, sticks=(1001,))
    with pytest.raises(NoAntStick):
        await rig2.hub(sticks=("999",)).start(rig2.events.append)


def radio_notes(rig: AntRig) -> list:
    from hiaim_monitor.samples import RadioNotice

    return [e.note for e in list(rig.events) if isinstance(e, RadioNotice)]


async def test_the_window_waits_for_a_stick_saying_so_and_streams_once_one_is_plugged_in(
        running):
    """In the window no stick is a notice for the pairing panel, not the end: the hub goes
    on looking, and a stick plugged in later is used, its straps heard."""
    rig = AntRig(1, sticks=())
    hub = await start(running, rig, wait_for_stick=True)
    assert [n.reason for n in radio_notes(rig)] == [StrapReason.NO_ANT_STICK]
    sid = strap_id(rig.straps[0])
    await hub.watch(sid, sid)
    rig.air.add_stick(1001)
    await wait_until(lambda: rig.state_of(sid) is StrapState.STREAMING,
                     "streaming once a stick is plugged in", timeout_s=20)
    assert radio_notes(rig)[-1] is None, "the notice is taken back"
    assert hub.sticks == ["1001"]


async def test_the_last_stick_pulled_is_said_even_with_no_strap_watched(running):
    rig = AntRig(1)
    hub = await start(running, rig, wait_for_stick=True)
    assert radio_notes(rig) == []
    rig.stick(1001).unplug()
    await wait_until(lambda: radio_notes(rig), "a notice for the pulled stick")
    note = radio_notes(rig)[-1]
    assert note.reason is StrapReason.ANT_STICK_LOST and "1001" in note.english()
    rig.stick(1001).plug()
    await wait_until(lambda: radio_notes(rig)[-1] is None and hub.sticks == ["1001"],
                     "the stick back, the notice gone", timeout_s=20)

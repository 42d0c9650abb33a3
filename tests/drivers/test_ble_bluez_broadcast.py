"""Polar broadcast listening through bleak's own BlueZ backend: straps beyond the adapter's
capacity are heard by the heart rate BlueZ discovery reports in their manufacturer data."""

from __future__ import annotations

from hiaim_monitor.samples import StrapState
from hiaim_monitor.strap_notes import StrapReason
from tests.conftest import wait_until
from tests.drivers.bluez_rig import BluezRig
from tests.drivers.emulated import WAIT_S


async def test_polar_straps_beyond_capacity_stream_heart_rate_heard_in_bluez_discovery(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    straps = await rig.add_straps(4, polar=True)
    source = rig.source(adapters=["hci0"], max_per_adapter=2)
    await rig.start(source)  # discovery off: listening keeps BlueZ discovering by itself
    connected, listened = straps[:2], straps[2:]

    await wait_until(lambda: all(len(rig.samples(s)) >= 5 for s in straps), "all four stream",
                     timeout_s=2 * WAIT_S)
    assert source.listened == {s.strap_id for s in listened}
    assert all(s.connected for s in connected) and not any(s.connected for s in listened)
    assert rig.double.adapter("hci0").discovering
    for strap in listened:
        samples = rig.samples(strap)
        assert all(s.broadcast and s.rr_ms == () for s in samples)
        assert rig.state(strap) is StrapState.STREAMING
        note = rig.statuses(strap)[-1].note
        assert note is not None and note.reason is StrapReason.BROADCAST_ONLY
        # What was heard is what the strap advertised (heart rate in the payload's 4th byte).
        assert {s.bpm for s in samples} <= {p[3] for p in strap.polar_data_sent}
    for strap in connected:
        assert not any(s.broadcast for s in rig.samples(strap))
        assert any(s.rr_ms for s in rig.samples(strap))


async def test_malformed_polar_data_in_bluez_discovery_is_counted_and_dropped(
        bluez_rig: BluezRig) -> None:
    rig = bluez_rig
    _held, strap = await rig.add_straps(2, polar=True)
    source = rig.source(adapters=["hci0"], max_per_adapter=1)
    await rig.start(source)
    await wait_until(lambda: len(rig.samples(strap)) >= 2, "the strap streams by broadcast")

    strap.hold_polar_data(bytes.fromhex("3300003838"))  # 5 bytes: no known frame
    await wait_until(lambda: len(rig.dropped(strap)) >= 3, "malformed broadcasts dropped")
    assert rig.dropped(strap)[0].data == bytes.fromhex("3300003838")

    strap.hold_polar_data(None)
    n = len(rig.samples(strap))
    await wait_until(lambda: len(rig.samples(strap)) > n + 1, "it streams again")

"""The RPE of a block of short bouts is given after the block, once: the records strip offers
the block by its name with its repeats, never each of its 15 bouts."""

from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.engine.engine import ZoneEngine
from hiaim_monitor.protocols import load_protocol
from ui.records_panel import RecordsPanel


def test_the_rpe_choice_offers_a_block_once_by_its_name(qtbot):
    protocol = load_protocol("hi-aim")
    (block,) = protocol.blocks
    clock = SimulatedClock()
    engine = ZoneEngine(protocol, [], clock, start_mono_s=0.0)
    panel = RecordsPanel()
    qtbot.addWidget(panel)
    block_start_s = sum(p.duration_s for p in protocol.phases[:block.first_phase])
    clock.advance(block_start_s + 7 * 40 + 5)  # in bout 8 of 15
    panel.show_snapshot(engine.snapshot())
    offered = [panel.rpe_after.itemText(i) for i in range(panel.rpe_after.count())]
    assert offered == [*(f"Step-ups {k}/4" for k in range(1, 5)), "Sprints 15 × 20/20 s",
                       "the end of the session"]
    assert panel.rpe_after.currentText() == "Sprints 15 × 20/20 s"
    assert panel.rpe_after.currentData() == block.first_phase  # where its result is stored

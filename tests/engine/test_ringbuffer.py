import numpy as np
import pytest

from hiaim_monitor.engine.ringbuffer import RingTable

COLS = {"t": np.float64, "f": np.uint8}


def test_latest_values_are_a_contiguous_view_not_a_copy():
    ring = RingTable(2, 8, COLS)
    for k in range(20):
        ring.append(np.array([0]), {"t": [float(k)], "f": [k]})
    recent = ring.latest(0, 5)
    assert recent["t"].tolist() == [15.0, 16.0, 17.0, 18.0, 19.0]
    assert recent["t"].base is ring.columns["t"]  # a view into the buffer
    assert recent["t"].flags.c_contiguous
    assert not recent["t"].flags.writeable


def test_batch_with_repeated_rows_keeps_order_per_row():
    ring = RingTable(3, 4, COLS)
    rows = np.array([0, 1, 0, 0, 2, 0, 0])
    ring.append(rows, {"t": np.arange(7.0), "f": np.arange(7)})
    assert ring.latest(0)["t"].tolist() == [2.0, 3.0, 5.0, 6.0]  # capacity 4 of 5 written
    assert ring.latest(1)["t"].tolist() == [1.0]
    assert ring.latest(2, 10)["t"].tolist() == [4.0]
    assert ring.lengths().tolist() == [4, 1, 1]


def test_memory_is_fixed_however_much_is_written():
    ring = RingTable(4, 100, COLS)
    before = ring.nbytes
    for _ in range(50):
        ring.append(np.repeat(np.arange(4), 10), {"t": np.ones(40), "f": np.ones(40)})
    assert ring.nbytes == before
    assert ring.written.tolist() == [500] * 4


def test_set_recent_changes_both_copies():
    ring = RingTable(1, 3, COLS)
    ring.append(np.zeros(5, dtype=int), {"t": np.arange(5.0), "f": np.zeros(5)})
    ring.set_recent(0, "f", 1, 7)  # the one before the newest: t = 3
    assert ring.latest(0)["f"].tolist() == [0, 7, 0]
    for _ in range(3):  # wrap around: the other copy must agree
        ring.append(np.zeros(1, dtype=int), {"t": [9.0], "f": [0]})
    with pytest.raises(IndexError):
        ring.set_recent(0, "f", 3, 1)

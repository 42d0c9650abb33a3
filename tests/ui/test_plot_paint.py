"""A pyqtgraph plot must paint offscreen, again and again, with the pinned PySide6.

PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 aborts the interpreter ("Fatal Python error:
none_dealloc" in AxisItem.drawPicture). Measured here: each paint under 6.12.0 drops the
reference count of None by about 6 without taking it, so on Python 3.11 (where None is not
immortal) the process dies after a few thousand paints - minutes into a class. Under 6.11.3
the count stays put. The paints run in a child process, so a bad combination fails this test
instead of killing the whole test run.
"""

import subprocess
import sys
import textwrap

PAINT = textwrap.dedent(
    """
    import os
    import sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    plot = pg.PlotWidget(background="w")
    plot.resize(400, 300)
    t = np.arange(600) / 4.0
    plot.plot(t, 120 + 30 * np.sin(t / 20), pen=pg.mkPen("r", width=4))
    plot.setLabel("left", "bpm")
    plot.show()
    app.processEvents()
    plot.grab()
    none_refs_before = sys.getrefcount(None)
    for _ in range(200):
        image = plot.grab().toImage()
    print("none refs lost", none_refs_before - sys.getrefcount(None))
    image = image
    reds = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if QColor(image.pixel(x, y)).red() > 200 and QColor(image.pixel(x, y)).green() < 80
    )
    print("red pixels", reds)
    """
)


def test_pyqtgraph_plot_paints_offscreen_repeatedly_without_corrupting_python():
    result = subprocess.run(
        [sys.executable, "-c", PAINT], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (
        f"painting a pyqtgraph plot offscreen crashed (exit {result.returncode}):\n"
        f"{result.stderr[-2000:]}"
    )
    lost = int(result.stdout.split("none refs lost")[1].split()[0])
    assert lost < 100, (
        f"200 paints dropped {lost} references to None: this PySide6/pyqtgraph pair will "
        "abort the interpreter (none_dealloc) after a few thousand paints"
    )
    reds = int(result.stdout.split("red pixels")[1])
    assert reds > 50, "the curve was not drawn: no red pixels in the rendered plot"

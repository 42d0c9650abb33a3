"""Qt side of the composition: the window, and the timer that drives the session's tick."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hiaim_monitor import config
from hiaim_monitor.session import LiveSession
from ui.live_table import LiveTableWindow


def run_window(session: LiveSession) -> int:
    """Show the live window until the user closes it or the session ends."""
    app = QApplication.instance() or QApplication([])
    window = LiveTableWindow()

    def tick() -> None:
        snap = session.tick()
        window.show_snapshot(snap)
        if snap.elapsed_s >= session.duration_s:
            timer.stop()

    timer = QTimer()
    timer.setInterval(int(config.TICK_INTERVAL_S * 1000))
    timer.timeout.connect(tick)
    timer.start()
    tick()
    window.show()
    return app.exec()

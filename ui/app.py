"""Qt side of the composition: the window, and the timer that drives the session's tick."""

from __future__ import annotations

import signal

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hiaim_monitor import config
from hiaim_monitor.session import LiveSession
from ui.control_window import ControlWindow


def run_window(session: LiveSession) -> int:
    """Show the control window until the operator closes it."""
    app = QApplication.instance() or QApplication([])
    window = ControlWindow(session)
    timer = QTimer()
    timer.setInterval(int(config.TICK_INTERVAL_S * 1000))
    timer.timeout.connect(window.refresh)
    timer.start()
    window.refresh()
    window.show()
    # Ctrl+C in the terminal closes the window; the timer above lets Python see the signal.
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    try:
        return app.exec()
    finally:
        timer.stop()
        signal.signal(signal.SIGINT, previous)

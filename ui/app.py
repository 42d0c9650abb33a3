"""Qt side of the composition: the session loop, the one timer that beats it, the control
window it feeds (and through it the wall), and a clean finish however the app ends (window
closed, Ctrl+Q, Ctrl+C in the terminal, SIGTERM)."""

from __future__ import annotations

import signal

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QLibraryInfo,
    QLocale,
    QSettings,
    QTimer,
    QTranslator,
)
from PySide6.QtWidgets import QApplication

from hiaim_monitor import config
from hiaim_monitor.i18n import SOURCE_LANGUAGE, language
from hiaim_monitor.recorded_session import RecordedSession
from hiaim_monitor.session_loop import SessionLoop
from ui.control_window import ControlWindow, Wiring


def saved_language() -> str | None:
    """The language the operator chose in the window last time, if any."""
    value = QSettings("hiaim-monitor", "control").value("language")
    return str(value) if value else None


def install_qt_translations(app: QApplication, code: str) -> QTranslator | None:
    """Qt's own words (the Yes and No of a question, a text box's menu) in language
    ``code``, from the translations PySide6 ships; None when it ships none for ``code``
    (Qt then says them in English)."""
    if code == SOURCE_LANGUAGE:
        return None
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(QLocale(code), "qtbase", "_", folder):
        return None
    app.installTranslator(translator)
    return translator


def _end_by_signal(app: QApplication, window: ControlWindow, signum: int) -> None:
    """Ctrl+C or SIGTERM (logout, shutdown): stop and store the session first, so that Qt's
    quit, which closes every window, asks nobody whether to quit while it runs (there may
    be nobody to answer)."""
    window.finish_recording(
        stop_reason="terminated" if signum == signal.SIGTERM else "interrupted")
    app.quit()


def run_app(wiring: Wiring) -> RecordedSession | None:
    """Show the control window until the operator closes it; the session run, if any, is
    stored and marked finished before it is returned."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    install_qt_translations(app, language())
    # The one heartbeat: each beat ticks the running session once and hands its snapshot
    # to every view; between sessions it lets the setup page take in the straps' news.
    loop = SessionLoop()
    window = ControlWindow(wiring=wiring, loop=loop)
    timer = QTimer()
    timer.setInterval(int(config.TICK_INTERVAL_S * 1000))
    timer.timeout.connect(loop.tick)
    timer.start()
    loop.tick()
    window.show()
    # Ctrl+C in the terminal, and SIGTERM (logout, shutdown), end the app and so finish the
    # session cleanly; the timer above lets Python see the signal.
    previous = {sig: signal.signal(sig, lambda signum, _frame: _end_by_signal(app, window,
                                                                              signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app.exec()
    finally:
        timer.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        window.finish_recording(stop_reason="interrupted")
        # Ended by a signal the window may still be open: close it (and the wall), so its
        # geometry is remembered and no window of this run is left on screen.
        window.close()
        # Sessions before the last one whose rows still wait: kept in a spill file if the
        # database does not answer (the caller settles the last one and says where it went).
        for earlier in window.saving:
            if earlier is not window.recorded:
                earlier.settle(config.EXIT_WAIT_S)
        # A second quit request (the signal handler's, or the last window closing) can
        # still be queued; left there it would end the next event loop at once.
        QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    return window.recorded

"""Windows rendered offscreen into PNG files, for the README and for bug reports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize
from PySide6.QtWidgets import QApplication

from hiaim_monitor.session import LiveSession
from hiaim_monitor.session_loop import SessionLoop, Tickable
from ui.control_window import ControlWindow, Wiring


def _app() -> QApplication:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    return app


def use_settings_in(folder: Path) -> None:
    """Read and write the windows' settings under ``folder`` (a fresh temporary one): a
    screenshot shows the defaults and never changes the user's own settings."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
        QSettings.setPath(fmt, QSettings.Scope.SystemScope, str(folder))


def save_control(session: LiveSession | None, wiring: Wiring | None, size: tuple[int, int],
                 out: Path) -> None:
    """The control window (the session page, or the setup page when given ``wiring``).
    Showing a session gives the window's loop its first beat: the page shows that one."""
    app = _app()
    window = ControlWindow(session, wiring=wiring)
    window.resize(*size)
    window.show()
    if session is None and window.setup_page is not None:
        window.setup_page.refresh()
    for _ in range(3):  # let layouts settle
        app.processEvents()
    if not window.grab().save(str(out)):
        raise OSError(f"could not write {out}")
    window._quit_confirmed = True
    window.close()


def save_wall(session: Tickable, size: tuple[int, int], out: Path) -> None:
    """The wall screen as the participants would see it, at the snapshot the first beat of
    a loop running ``session`` hands out (as the app's loop would hand it to the wall)."""
    from ui.wall import render_wall_image

    _app()
    image = render_wall_image(SessionLoop().run(session), QSize(*size))
    if not image.save(str(out)):
        raise OSError(f"could not write {out}")

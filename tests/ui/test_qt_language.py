"""Qt's own words (the buttons of a question) speak the operator's language: a real,
modal Stop question is opened and read, then answered No."""

import queue

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from hiaim_monitor import i18n
from hiaim_monitor.clock import SimulatedClock
from hiaim_monitor.protocols import load_protocol
from hiaim_monitor.session import LiveSession
from tests.conftest import people
from ui.app import install_qt_translations
from ui.control_window import ControlWindow


@pytest.fixture(autouse=True)
def no_real_dialogs():
    """These tests read the real question box (tests/ui/conftest.py answers it otherwise)."""


@pytest.fixture
def danish(qapp):
    i18n.set_language("da")
    translator = install_qt_translations(qapp, "da")
    yield translator
    if translator is not None:
        qapp.removeTranslator(translator)
    i18n.set_language("en")


def ask_stop_and_read_the_question(qtbot, window):
    """Press Stop; read the real question box that opens, and answer No."""
    seen = {}

    def read_and_refuse():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_refuse)
            return
        seen["title"] = box.windowTitle()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, read_and_refuse)
    window.session_panel.confirm_stop()
    return seen


def test_qt_buttons_of_a_question_speak_danish(danish, qtbot):
    assert danish is not None, "PySide6 ships no qtbase_da.qm"
    session = LiveSession(load_protocol("norwegian-4x4"),
                          people(160),
                          SimulatedClock(), queue.SimpleQueue())
    window = ControlWindow(session)
    qtbot.addWidget(window)
    window.show()
    seen = ask_stop_and_read_the_question(qtbot, window)
    assert seen["title"] == "Stop træningen?"
    assert seen["buttons"] == ["&Ja", "&Nej"]
    assert window.session_panel.running  # No kept it going
    window._quit_confirmed = True  # closing at the end must not ask again


def test_english_needs_no_qt_translation(qapp):
    assert install_qt_translations(qapp, "en") is None

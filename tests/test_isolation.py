"""The test run never uses the user's own settings or database."""

from pathlib import Path

from hiaim_monitor.storage.database import default_sqlite_path
from tests.conftest import TEST_HOME, USER_HOME


def test_default_database_is_inside_the_test_home():
    assert default_sqlite_path().is_relative_to(TEST_HOME)
    assert not USER_HOME or not default_sqlite_path().is_relative_to(Path(USER_HOME) / ".local")


def test_qt_settings_are_inside_the_test_home(qapp):
    from PySide6.QtCore import QSettings

    # Some tests point QSettings at their own folder; none may land in the user's home.
    settings = Path(QSettings("hiaim-monitor", "control").fileName())
    assert not USER_HOME or not settings.is_relative_to(USER_HOME)

"""Every UI test remembers its window choices in its own folder, and every question a window
asks is answered Yes (a real message box would block the run; qtbot closes windows at the
end, which asks). A test that answers otherwise patches ``QMessageBox.question`` itself; a
module that reads the real box overrides ``no_real_dialogs``."""

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path) -> None:
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))


@pytest.fixture(autouse=True)
def no_real_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)

"""Test-wide settings: Qt renders offscreen, so windows can be drawn and checked anywhere,
and the whole run (and every program it starts) gets its own home, settings and data
folders, so no test reads or writes the user's own settings, registry or database."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

USER_HOME = os.environ.get("HOME", "")
TEST_HOME = Path(tempfile.mkdtemp(prefix="hiaim-test-home-"))
for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                 ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state"),
                 ("APPDATA", "AppData/Roaming"), ("LOCALAPPDATA", "AppData/Local")):
    folder = TEST_HOME / sub
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[var] = str(folder)

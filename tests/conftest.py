"""Test-wide settings: Qt renders offscreen, so windows can be drawn and checked anywhere."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

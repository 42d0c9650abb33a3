"""The control window's setup page: today's class, its straps and its protocol."""

from ui.setup.setup_page import SetupPage
from ui.setup.timeline import PhaseTimeline

__all__ = ["PhaseTimeline", "SetupPage"]

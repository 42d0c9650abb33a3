"""Protocol files only the tests use."""

from pathlib import Path

from hiaim_monitor.protocols import TrainingProtocol, load_protocol

FOLDER = Path(__file__).parent


def protocol_file(stem: str) -> TrainingProtocol:
    """The protocol ``tests/protocols/<stem>.toml``."""
    return load_protocol(FOLDER / f"{stem}.toml")

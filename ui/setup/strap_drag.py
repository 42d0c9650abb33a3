"""What a strap dragged from the nearby list to a roster row carries: its id, under a mime
type of our own (and as text, so dropping it in a text field pastes the address)."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QMimeData

STRAP_MIME: Final = "application/x-hiaim-strap"


def strap_mime(strap_id: str) -> QMimeData:
    data = QMimeData()
    data.setData(STRAP_MIME, strap_id.encode("utf-8"))
    data.setText(strap_id)
    return data


def strap_of(data: QMimeData | None) -> str | None:
    """The strap id a drop carries, or None when it carries no strap."""
    if data is None or not data.hasFormat(STRAP_MIME):
        return None
    strap_id = bytes(data.data(STRAP_MIME).data()).decode("utf-8", "replace").strip()
    return strap_id or None

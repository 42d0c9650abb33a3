"""Column widths for the setup page's tables: every column as wide as its contents, the
last one stretched over what is left, and no wider than ``last_px`` where nothing is left
(Qt would otherwise keep it at its 100 px default, or at its widest cell, and make the
table scroll sideways, cutting off the last column)."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget

from ui.participant_table import fit_columns


def fit_columns_stretching_last(table: QTableWidget, last_px: int) -> None:
    fit_columns(table)
    header = table.horizontalHeader()
    # The stretched section grows from the size it has when stretching is switched on.
    header.setStretchLastSection(False)
    header.resizeSection(header.count() - 1, last_px)
    header.setStretchLastSection(True)


def last_column_hint_px(table: QTableWidget, *, with_cells: bool) -> int:
    """What the last column needs: its title, and its widest cell when ``with_cells``
    (a column whose cells wrap needs only its title)."""
    header = table.horizontalHeader()
    last = header.count() - 1
    px = header.sectionSizeHint(last)
    return max(px, table.sizeHintForColumn(last)) if with_cells else px

"""The mini trace on a tile: % HRmax over the last few minutes with the phase's target band
shaded. Its items are made once and updated in place (``setData``, ``setRect``); the curve
downsamples by peak and clips to the view, as pyqtgraph's scrolling-plot example does."""

from __future__ import annotations

from typing import Final

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsView, QWidget

from hiaim_monitor import config

WINDOW_S: Final = config.TRACE_WINDOW_S  # seconds of history on a tile
Y_RANGE_PCT: Final = (45.0, 105.0)  # % HRmax shown; the curve clips outside
BAND_ALPHA: Final = 70  # of 255: target band shading over the tile colour
_FAR_S: Final = 1e7  # the band spans all time; the view clips it


class TraceView(pg.GraphicsView):
    """A bare view (no axes: a participant reads the shape, not the scale). The owner
    repaints it: scene changes do not schedule repaints of their own, so a frame paints
    each changed trace exactly once, synchronously."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.box = pg.ViewBox(enableMouse=False, enableMenu=False, defaultPadding=0.0)
        self.box.disableAutoRange()
        self.box.setRange(xRange=(-WINDOW_S, 0.0), yRange=Y_RANGE_PCT, padding=0.0)  # fixed
        self.setCentralItem(self.box)
        self.band = QGraphicsRectItem()
        self.band.setPen(QPen(Qt.PenStyle.NoPen))
        self.band.setVisible(False)
        self.box.addItem(self.band, ignoreBounds=True)
        # Without antialiasing a trace paints about a quarter faster; a 2–4 px line on a wall
        # seen from metres away looks the same.
        self.curve = pg.PlotDataItem(connect="finite", antialias=False)
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.box.addItem(self.curve)
        self._colours: tuple[str, str] | None = None
        self._band_pct: tuple[float, float] | None = None
        self._x_end_s: float | None = None
        self._source: np.ndarray | None = None
        self._line_px = 2

    def set_line_width(self, px: int) -> None:
        self._line_px = max(1, px)
        self._colours = None  # rebuild the pen on the next set_colours

    def set_colours(self, background: str, line: str) -> bool:
        """Returns whether they changed (the view then needs repainting)."""
        if self._colours == (background, line):
            return False
        self._colours = (background, line)
        self.setBackground(QColor(background))
        self.curve.setPen(pg.mkPen(QColor(line), width=self._line_px))
        shade = QColor(line)
        shade.setAlpha(BAND_ALPHA)
        self.band.setBrush(QBrush(shade))
        return True

    def set_band(self, band_pct: tuple[float, float] | None) -> bool:
        """Shade ``(low, high)`` % HRmax; None hides the band (no phase running). Returns
        whether it changed."""
        if band_pct == self._band_pct:
            return False
        self._band_pct = band_pct
        if band_pct is None:
            self.band.setVisible(False)
            return True
        lo, hi = band_pct
        self.band.setRect(QRectF(-_FAR_S, lo, 2 * _FAR_S, hi - lo))
        self.band.setVisible(True)
        return True

    def set_trace(self, t_s: np.ndarray, pct: np.ndarray, x_end_s: float) -> bool:
        """Show the trace up to ``x_end_s`` (session seconds). Nothing happens unless the
        arrays (the engine hands out the same objects until a sample arrives) or the end of
        the window changed; returns whether anything did."""
        if t_s is self._source and x_end_s == self._x_end_s:
            return False
        self._source, self._x_end_s = t_s, x_end_s
        # The view's range stays put (seconds before the end): one setData per change and
        # no range change, so pyqtgraph recomputes neither the view matrix nor the clip twice.
        self.curve.setData(t_s - x_end_s, pct)
        return True

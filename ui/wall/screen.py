"""The wall screen: a frameless full-screen window the participants watch from their bikes.

``show_snapshot`` only stores the snapshot. The window's own timer (config.WALL_FRAME_HZ,
running while the window is shown) calls ``frame``, which compares each tile's new content
with what is on screen and repaints, synchronously, only the tiles and traces that changed,
and the header when its second ticks over. Tests and benchmarks call ``frame`` themselves
to force one.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QGuiApplication,
    QHideEvent,
    QImage,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QScreen,
    QShowEvent,
)
from PySide6.QtWidgets import QWidget

from hiaim_monitor import config
from hiaim_monitor.engine.snapshot import SessionSnapshot
from hiaim_monitor.i18n import tr
from ui.wall import palette
from ui.wall.content import header_content
from ui.wall.header import WallHeader
from ui.wall.layout import tile_rects, wall_areas
from ui.wall.tile import TileStyle, WallTile, tile_style


class WallScreen(QWidget):
    """Header and one tile per participant, in the snapshot's (the operator's) order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("HI AIM Monitor — wall"))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.header = WallHeader(self)
        self.tiles: list[WallTile] = []
        self._ids: tuple[str, ...] = ()
        self._style: TileStyle | None = None
        self._pending: SessionSnapshot | None = None
        self.shown: SessionSnapshot | None = None  # the snapshot the last frame drew
        self.frames = 0  # frames that drew something
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(round(1000 / config.WALL_FRAME_HZ))
        self.timer.timeout.connect(self.frame)

    # -- feeding --------------------------------------------------------------------------
    def show_snapshot(self, snap: SessionSnapshot) -> None:
        """Keep ``snap`` for the next frame (cheap: call it on every tick)."""
        self._pending = snap

    def frame(self) -> int:
        """Draw what changed since the last frame; returns how many tiles (and the header)
        were repainted. Does nothing when no new snapshot came."""
        if self._pending is None:
            return 0
        snap, self._pending = self._pending, None
        self._ensure_tiles(snap)
        visible = self.isVisible()
        drawn = 0
        self.header.set_protocol(snap.protocol)
        if self.header.set_content(header_content(snap)):
            drawn += 1
            if visible:
                self.header.repaint()
        pos = snap.position
        phase = pos.phase if pos is not None and not snap.finished else None
        band = None
        if phase is not None:
            top = phase.target_max_pct if phase.target_max_pct is not None \
                else snap.protocol.thresholds.ceiling_pct
            band = (phase.target_min_pct, top)
        for tile, p in zip(self.tiles, snap.participants, strict=True):
            if tile.update_from(p, phase, band, snap.elapsed_s):
                drawn += 1
                if visible:
                    if tile.content_changed:
                        tile.repaint()
                    if tile.trace_changed:
                        # The view paints itself only when asked (see TraceView).
                        tile.trace.viewport().repaint()
        self.shown = snap
        self.frames += drawn > 0
        return drawn

    def _ensure_tiles(self, snap: SessionSnapshot) -> None:
        ids = tuple(p.study_code for p in snap.participants)
        if ids == self._ids:
            return
        for tile in self.tiles:
            tile.setParent(None)
            tile.deleteLater()
        self.tiles = [WallTile(self) for _ in ids]
        self._ids = ids
        self._style = None
        self._lay_out()
        for tile in self.tiles:
            tile.show()

    # -- geometry -------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        self._lay_out()
        super().resizeEvent(event)

    def _lay_out(self) -> None:
        header, area, gap = wall_areas(self.width(), self.height())
        self.header.setGeometry(*header)
        if not self.tiles:
            return
        rects = tile_rects(len(self.tiles), area, gap)
        _, _, w, h = rects[0]
        if self._style is None or (self._style.width, self._style.height) != (w, h):
            self._style = tile_style(w, h)
        for tile, rect in zip(self.tiles, rects, strict=True):
            tile.setGeometry(*rect)
            tile.set_style(self._style)

    def place_on(self, screen: QScreen) -> None:
        """Show the wall frameless and full screen on ``screen``."""
        self.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setGeometry(screen.geometry())
        handle = self.windowHandle()
        if handle is None:
            self.create()
            handle = self.windowHandle()
        handle.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.showFullScreen()

    # -- window life ----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()  # no frames, no CPU, while nobody can see the wall
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # On a laptop with one screen the wall covers the control window: Esc or W (the
        # control window's show/hide key) brings the operator back.
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_W):
            self.close()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(palette.WALL_BG))
        painter.end()


def default_wall_screen(app: QGuiApplication) -> QScreen:
    """The screen the wall opens on: the first screen other than the primary one (a TV or
    projector plugged into the laptop), else the primary."""
    primary = app.primaryScreen()
    for screen in app.screens():
        if screen != primary:
            return screen
    return primary


def render_wall_image(snap: SessionSnapshot, size: QSize) -> QImage:
    """The wall for ``snap`` at ``size``, drawn offscreen (for ``screenshot --window wall``)."""
    wall = WallScreen()
    try:
        wall.resize(size)
        wall.show_snapshot(snap)
        wall.frame()
        return wall.grab().toImage()
    finally:
        wall.deleteLater()

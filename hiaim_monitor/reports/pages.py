"""Drawing A4 landscape report pages with matplotlib's object API (``Figure`` and the PDF
backend's ``PdfPages``), never pyplot: pyplot picks a GUI backend (Qt, here), and the core
imports no GUI. Text is embedded as TrueType (``pdf.fonttype`` 42) so it can be searched,
copied and read back; DejaVu Sans, matplotlib's own font, has the Danish letters.

Also the words a report shows for the programme model's choices, in one place.
"""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.table import Table

from hiaim_monitor.i18n import tr
from hiaim_monitor.programme.model import Attendance, DoseModification, MissedReason, Relatedness

A4_LANDSCAPE_IN: Final = (11.69, 8.27)
TITLE_PT: Final = 15
BODY_PT: Final = 9.5
SMALL_PT: Final = 8
RC: Final[dict[str, Any]] = {
    "pdf.fonttype": 42, "font.family": "DejaVu Sans", "font.size": BODY_PT,
    "axes.titlesize": BODY_PT + 1, "axes.labelsize": BODY_PT, "legend.fontsize": SMALL_PT,
    "xtick.labelsize": SMALL_PT, "ytick.labelsize": SMALL_PT, "axes.spines.top": False,
    "pdf.compression": 6,
}


@contextlib.contextmanager
def pdf_pages(path: Path, title: str) -> Iterator[PdfPages]:
    """A PDF being written to ``path`` (the caller's temporary file)."""
    with matplotlib.rc_context(RC), PdfPages(path, metadata={
            "Title": title, "Creator": "HI AIM Monitor",
            "CreationDate": datetime.now(UTC)}) as pdf:
        yield pdf


def page(title: str, subtitle: str = "", footer: str = "") -> Figure:
    """A blank A4 landscape page with its title (and a line under it) at the top."""
    fig = Figure(figsize=A4_LANDSCAPE_IN)
    fig.text(0.04, 0.955, title, fontsize=TITLE_PT, fontweight="bold", va="top")
    if subtitle:
        fig.text(0.04, 0.915, subtitle, fontsize=BODY_PT, va="top", color="#333333")
    if footer:
        fig.text(0.96, 0.02, footer, fontsize=SMALL_PT, ha="right", color="#666666")
    return fig


def table(ax: Axes, header: Sequence[str], rows: Sequence[Sequence[str]], *,
          widths: Sequence[float] | None = None, font_pt: float = SMALL_PT,
          row_h: float | None = None) -> Table:
    """``rows`` under ``header`` filling ``ax`` from the top; ``widths`` as fractions."""
    ax.axis("off")
    if not rows:
        rows = [[""] * len(header)]
    t = ax.table(cellText=[list(r) for r in rows], colLabels=list(header), loc="upper left",
                 cellLoc="left", colLoc="left", colWidths=list(widths) if widths else None)
    t.auto_set_font_size(False)
    t.set_fontsize(font_pt)
    lines = 1 + max(h.count("\n") for h in header)  # a long header is given in two lines
    n = len(rows) + lines
    height = row_h if row_h is not None else min(0.08, 1.0 / n)
    for (r, _c), c in t.get_celld().items():
        c.set_height(height * (lines if r == 0 else 1))
        c.set_edgecolor("#bbbbbb")
        c.set_linewidth(0.4)
        if r == 0:
            c.set_facecolor("#eeeeee")
            c.get_text().set_fontweight("bold")
    return t


class TextBlock:
    """Lines of text from the top of ``ax``, as many as its height holds at 1.4 × the font
    size (each wrapped to ``width_chars``; a line starting with "# " is a heading); what does
    not fit ends in "… and N more lines". The Text artists are made once, so a page drawn
    again for the next participant only changes their strings."""

    def __init__(self, ax: Axes, *, font_pt: float = BODY_PT, width_chars: int = 80) -> None:
        ax.axis("off")
        fig = ax.get_figure()
        assert fig is not None
        height_pt = ax.get_position().height * fig.get_size_inches()[1] * 72
        step_pt = 1.4 * font_pt
        self.max_lines = max(1, int(height_pt // step_pt))
        self.width_chars = width_chars
        step = step_pt / height_pt
        self.texts = [ax.text(0.0, 1.0 - i * step, "", transform=ax.transAxes, va="top",
                              fontsize=font_pt) for i in range(self.max_lines)]

    def show(self, lines: Sequence[str]) -> None:
        out: list[tuple[str, bool]] = []
        for line in lines:
            heading = line.startswith("# ")
            text = line[2:] if heading else line
            wrapped = textwrap.wrap(text, self.width_chars, subsequent_indent="   ") or [""]
            out.extend((w, heading) for w in wrapped)
        if len(out) > self.max_lines:
            rest = len(out) - (self.max_lines - 1)
            out = [*out[:self.max_lines - 1],
                   (tr("… and {n} more lines (the CSV report has them all)").format(n=rest),
                    False)]
        out += [("", False)] * (self.max_lines - len(out))
        for artist, (text, heading) in zip(self.texts, out, strict=True):
            artist.set_text(text)
            artist.set_fontweight("bold" if heading else "normal")


def text_block(ax: Axes, lines: Sequence[str], *, font_pt: float = BODY_PT,
               width_chars: int = 80) -> None:
    """``lines`` in a ``TextBlock`` on ``ax``."""
    TextBlock(ax, font_pt=font_pt, width_chars=width_chars).show(lines)


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``items`` in pieces of at most ``size`` (one empty piece for no items)."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


# --- words for the programme model's choices ------------------------------------------


def missed_reason_word(reason: MissedReason | None) -> str:
    words = {
        MissedReason.ILLNESS: tr("illness"),
        MissedReason.TREATMENT_SIDE_EFFECTS: tr("treatment side effects"),
        MissedReason.HOSPITAL_ADMISSION: tr("hospital admission"),
        MissedReason.TRANSPORT: tr("transport"),
        MissedReason.PERSONAL: tr("personal"),
        MissedReason.UNKNOWN: tr("unknown"),
    }
    return words[reason or MissedReason.UNKNOWN]


def attendance_word(status: Attendance | None) -> str:
    return {Attendance.ATTENDED: tr("attended"), Attendance.MISSED: tr("missed"),
            Attendance.CANCELLED: tr("cancelled by the site"),
            None: tr("not recorded yet")}[status]


def dose_word(value: DoseModification | str | None) -> str:
    if value is None:
        return ""
    words = {
        DoseModification.INTENSITY_REDUCED_HEALTH: tr("intensity reduced (health)"),
        DoseModification.INTENSITY_REDUCED_OTHER: tr("intensity reduced (other cause)"),
        DoseModification.DURATION_REDUCED_HEALTH: tr("duration reduced (health)"),
        DoseModification.DURATION_REDUCED_OTHER: tr("duration reduced (other cause)"),
    }
    return words[DoseModification(value)]


def related_word(value: Relatedness | str) -> str:
    return {Relatedness.YES: tr("related"), Relatedness.POSSIBLE: tr("possibly related"),
            Relatedness.NO: tr("not related")}[Relatedness(value)]


def status_word(status: str) -> str:
    """A stored session's status (storage.schema.SessionStatus) in words."""
    return {"running": tr("still recording"), "finished": tr("finished"),
            "interrupted": tr("interrupted (a crash left it open)")}.get(status, status)


def hrmax_method_word(method: str) -> str:
    """How HRmax was found (hrmax.HRMaxMethod) in words."""
    return {"measured": tr("measured"), "tanaka": tr("Tanaka: 208 − 0.7 × age"),
            "220-age": tr("220 − age"), "gellish": tr("Gellish: 207 − 0.7 × age")
            }.get(method, method)

"""Fault intervals as shaded bands: merged, clipped to the window, labelled only where it fits.

A chaotic run can hold dozens of view changes a few milliseconds apart; one band and one label
each would pile up into an unreadable smear. So before drawing, intervals of the same kind
on the same node that overlap or touch are merged into one band labelled with a count
("view changes ×9"), bands are clipped to the figure's time window, and labels are laid out in
a few rows so that they never run into each other (:func:`label_rows`, which knows the plot's
width in pixels). A band too narrow to see (a crash followed at once by a replacement, a 6 ms
view change in a two-second run) is drawn at least :data:`MIN_BAND_FRACTION` of the window
wide and still gets its printed label when a row has room. Every band, labelled or not,
keeps its full description as the hover text of an annotation at its top (its label, or a
small ``▾`` tick when it has none), since plotly shapes themselves have no hover; no trace is
added, so a figure's ``data`` stays one trace per node.
"""

from __future__ import annotations

from dataclasses import dataclass

from clobkit.viz.style import FAULT_COLORS

__all__ = [
    "BAND_TICK",
    "MIN_BAND_FRACTION",
    "MIN_LABEL_FRACTION",
    "Band",
    "drawn_span",
    "label_rows",
    "merge_bands",
    "show_label",
]

#: The mark drawn (with the band's hover text) for a band that gets no printed label.
BAND_TICK = "▾"

#: Bands narrower than this fraction of the x range are drawn without a printed label
#: (0: every band is labelled when a label row has room).
MIN_LABEL_FRACTION = 0.0

#: The narrowest a band is drawn, as a fraction of the x range (its hover keeps the real span).
MIN_BAND_FRACTION = 0.008

_PLURAL = {"crash": "crashes", "pause": "pauses", "partition": "partitions"}


@dataclass
class Band:
    """One merged fault band (times in µs; ``labels`` are the merged intervals' labels)."""

    kind: str
    node: str
    start_us: int
    end_us: int
    labels: list[str]

    @property
    def label(self) -> str:
        """The printed label: the interval's own, or a count for merged ones."""
        if len(self.labels) == 1:
            return self.labels[0]
        if self.kind == "view_change":
            return f"view changes ×{len(self.labels)}"
        what = _PLURAL.get(self.kind, self.kind)
        return (
            f"{what} {self.node} ×{len(self.labels)}"
            if self.node
            else f"{what} ×{len(self.labels)}"
        )

    @property
    def hover(self) -> str:
        """Every merged interval's label, one per line, and the band's time span."""
        shown = self.labels if len(self.labels) <= 12 else [*self.labels[:12], "…"]
        span = f"{self.start_us / 1000:.3f}-{self.end_us / 1000:.3f} ms"
        return "<br>".join([*shown, span])

    @property
    def color(self) -> str:
        """The band's fill colour."""
        return FAULT_COLORS.get(self.kind, "rgba(0,0,0,0.08)")


def merge_bands(
    rows: list[tuple[str, str, int, int | None, str]], start_us: int, end_us: int
) -> list[Band]:
    """Clip ``(kind, node, start_us, end_us or None, label)`` rows to the window and merge.

    Rows of the same kind and node whose intervals overlap or touch become one band; an open
    interval (end None) runs to ``end_us``. Result in start order. O(n log n).

    >>> rows = [("view_change", "", 10, 20, "view change to 1"),
    ...         ("view_change", "", 20, 30, "view change to 2"),
    ...         ("crash", "n0", 5, None, "crash n0")]
    >>> [(b.label, b.start_us, b.end_us) for b in merge_bands(rows, 0, 100)]
    [('crash n0', 5, 100), ('view changes ×2', 10, 30)]
    """
    clipped = []
    for kind, node, start, stop, label in rows:
        stop = end_us if stop is None else stop
        if stop < start_us or start > end_us:
            continue
        clipped.append((kind, node, max(start, start_us), min(stop, end_us), label))
    clipped.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    bands: list[Band] = []
    for kind, node, start, stop, label in clipped:
        last = bands[-1] if bands else None
        if last is not None and (last.kind, last.node) == (kind, node) and start <= last.end_us:
            last.end_us = max(last.end_us, stop)
            last.labels.append(label)
        else:
            bands.append(Band(kind, node, start, stop, [label]))
    bands.sort(key=lambda b: (b.start_us, b.kind, b.node))
    return bands


#: Label rows available at the top of a figure, and the assumed width of one label character
#: as a fraction of the x range (about 6 px of a 900 px plot).
LABEL_ROWS = 4
CHAR_FRACTION = 0.0068
CHAR_PX = 6.2  # one character of a 10 px label


def drawn_span(band: Band, start_us: int, end_us: int) -> tuple[int, int]:
    """``band``'s span as drawn: at least :data:`MIN_BAND_FRACTION` of the window wide.

    >>> drawn_span(Band("crash", "n0", 500, 500, ["crash n0"]), 0, 10_000)
    (460, 540)
    """
    width = max(end_us - start_us, 1)
    least = int(width * MIN_BAND_FRACTION)
    if band.end_us - band.start_us >= least:
        return band.start_us, band.end_us
    middle = (band.start_us + band.end_us) // 2
    return middle - least // 2, middle + least // 2


def label_rows(
    bands: list[Band], start_us: int, end_us: int, *, plot_px: int | None = None
) -> list[int | None]:
    """For each band, the label row (0 = top) its label goes in, or None for no label.

    Greedy in start order: a label takes the first row whose previous label has ended (by
    an estimate of its printed width: ``plot_px`` is the plot area's width in pixels, default
    about 900); a band finding no free row gets none (its hover keeps it).

    >>> wide = [Band("crash", "n0", 0, 50, ["crash n0"]), Band("crash", "n1", 1, 50, ["crash n1"])]
    >>> label_rows(wide, 0, 100)
    [0, 1]
    """
    width = max(end_us - start_us, 1)
    char = CHAR_FRACTION if plot_px is None else CHAR_PX / max(plot_px, 100)
    row_end = [start_us - width] * LABEL_ROWS
    rows: list[int | None] = []
    for band in bands:
        row = None
        if show_label(band, start_us, end_us):
            for r in range(LABEL_ROWS):
                if band.start_us >= row_end[r]:
                    row = r
                    row_end[r] = band.start_us + int((len(band.label) + 1) * char * width)
                    break
        rows.append(row)
    return rows


def show_label(band: Band, start_us: int, end_us: int) -> bool:
    """True when ``band`` is wide enough, relative to the window, for a printed label."""
    width = max(end_us - start_us, 1)
    return (band.end_us - band.start_us) / width >= MIN_LABEL_FRACTION

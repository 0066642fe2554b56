"""Line plots of the training curves. The plotting library (textual-plotext on plotext 5) is used only in
this file, so switching it means changing one file."""
from __future__ import annotations

import math

from textual_plotext import PlotextPlot

SERIES_COLOURS = {"train": "orange", "val": "cyan"}
OTHER_COLOURS = ("orange", "cyan", "green", "magenta")   #: other series, by position
MARKERS = ("dot", "+", "x", "o")                        #: without colour, by position


class CurvePlot(PlotextPlot):
    """Training and validation values of one quantity per epoch, with one :meth:`replot`."""

    DEFAULT_CSS = """
    CurvePlot { height: 1fr; min-height: 6; }
    """

    def __init__(self, title: str, *, log_y: bool = False, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.title = title
        self.log_y = log_y
        self._series: dict[str, tuple] = {}
        self._drawn: tuple | None = None

    def replot(self, series: dict[str, tuple], title: str | None = None, color: bool = True) -> None:
        """Draw ``{"train": values, "val": values}`` (missing or empty series are skipped)."""
        if title is not None:
            self.title = title
        key = (self.title, color, tuple((k, len(v), v[-1] if v else None) for k, v in series.items()))
        if key == self._drawn:
            return      # nothing new: skip the (Python-heavy) plot build
        self._drawn = key
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        plt.xlabel("epoch")
        drawn = False
        for pos, (name, values) in enumerate(series.items()):
            n = len(values)         # a prefix of a list the worker may still be appending to
            if not n:
                continue
            step = max(1, math.ceil(n / 200))   # the plot is ~150 dots wide: thin long runs first
            idx = list(range(0, n, step)) + ([n - 1] if (n - 1) % step else [])
            points = [(i + 1, values[i]) for i in idx if values[i] is not None and math.isfinite(values[i])]
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            marker = "braille" if color else MARKERS[pos % len(MARKERS)]
            colour = SERIES_COLOURS.get(name, OTHER_COLOURS[pos % len(OTHER_COLOURS)])
            plt.plot(xs, ys, label=name, marker=marker, color=colour if color else None)
            drawn = True
        if not drawn:
            plt.title(f"{self.title} (no epochs yet: press space)")
        self.refresh()

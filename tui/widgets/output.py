"""TensorFlow Playground's core view: the decision boundary (or regression surface) with the data on top,
and a thumbnail of every input feature and hidden unit over the same plane."""
from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from .. import render
from ..messages import GridResized
from ..state import ViewOptions


def resample(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Nearest-neighbour resize (the worker's grid may lag a resize by a frame)."""
    if a.shape[:2] == (rows, cols):
        return a
    r = (np.arange(rows) * a.shape[0] / rows).astype(int)
    c = (np.arange(cols) * a.shape[1] / cols).astype(int)
    return a[r][:, c]


class BoundaryView(Widget):
    """The network's output over the plane, training points (and test points with t) drawn on top."""

    DEFAULT_CSS = """
    BoundaryView { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.visuals = None
        self.dataset = None
        self.options = ViewOptions()

    def set_data(self, visuals, dataset, options: ViewOptions) -> None:
        self.visuals, self.dataset, self.options = visuals, dataset, options
        self.refresh()

    def on_resize(self) -> None:
        self.post_message(GridResized())

    def grid_size(self) -> tuple[int, int]:
        """The pixel grid (cols, rows) the worker should evaluate for the current size and colour mode."""
        w, h = max(8, self.size.width), max(4, self.size.height - 2)
        if self.options.color:
            side = min(w, 2 * h)
        else:
            side = min(w // 2, h)
        return side, side

    def render(self):
        ds, vis, opts = self.dataset, self.visuals, self.options
        cols, rows = self.grid_size()
        if ds is None or "domain" not in ds.meta:
            return Text("no 2-D plane for this dataset: see 2 Curves, 3 Inside, 5 Errors", style="dim")
        if vis is None or vis.boundary is None:
            values = np.full((rows, cols), 0.5 if ds.task != "regression" else 0.0, np.float32)
            conf, vrange = None, (0.0, 1.0)
        else:
            values = resample(vis.boundary, rows, cols)
            conf = resample(vis.confidence, rows, cols) if vis.confidence is not None else None
            vrange = vis.value_range
        picture = self._colour(values, conf, vrange, cols, rows) if opts.color else \
            self._shade(values, conf, vrange, cols, rows)
        return Group(picture, self._legend(vrange))

    def _points(self):
        ds = self.dataset
        yield ds.meta["points_train"], ds.y_train, False
        if self.options.show_test and ds.meta.get("points_test") is not None:
            yield ds.meta["points_test"], ds.y_test, True

    def _colour(self, values, conf, vrange, cols, rows):
        ds, disc = self.dataset, self.options.discretize
        if ds.task == "multiclass":
            c = np.ones_like(values) if disc or conf is None else conf
            rgb = render.classes(values, c, int(ds.n_classes or 2))
        elif ds.task == "regression":
            v = render.symmetric(values, max(abs(vrange[0]), abs(vrange[1])))
            rgb = render.diverging(np.sign(v) * 0.8 if disc else v, 0.8)
        else:
            v = (values - 0.5) * 2
            rgb = render.diverging(np.sign(v) * 0.7 if disc else v, 0.7)
        for pts, labels, light in self._points():
            rgb = render.with_points(rgb, pts, render.point_colours(labels, ds.task, vrange, light),
                                     ds.meta["domain"])
        return render.HalfBlocks(rgb)

    def _shade(self, values, conf, vrange, cols, rows):
        ds, disc = self.dataset, self.options.discretize
        if ds.task == "multiclass":
            unit = values / max(1, (ds.n_classes or 2) - 1)
        elif ds.task == "regression":
            unit = render.unit(values, *vrange)
        else:
            unit = values
        if disc:
            unit = np.where(unit >= 0.5, 1.0, 0.0) if ds.task != "multiclass" else unit
        marks = {}
        for pts, labels, light in self._points():
            r, c = render.pixel_index(pts, ds.meta["domain"], cols, rows)
            lab = np.asarray(labels).reshape(-1)
            for rr, cc, y in zip(r.tolist(), c.tolist(), lab.tolist()):
                k = int(y > 0) if ds.task == "regression" else int(y)
                ch = render.CLASS_CHARS[k % len(render.CLASS_CHARS)]
                marks[(rr, cc)] = ch.upper() if light else ch
        return render.Shade(unit, marks)

    def _legend(self, vrange) -> Text:
        ds, opts = self.dataset, self.options
        lo, hi = ds.meta["domain"]
        t = Text(no_wrap=True, overflow="ellipsis")
        names = ds.class_names or []
        if opts.color:
            if ds.task == "multiclass":
                for k in range(int(ds.n_classes or 0)):
                    rgb = render.PALETTE[k % len(render.PALETTE)].astype(int)
                    t.append("■", Style.parse(f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"))
                    t.append(f"{names[k] if k < len(names) else k} ")
            else:
                neg = "-1" if ds.task == "binary" and not names else (names[0] if names else f"{vrange[0]:.2g}")
                pos = "+1" if ds.task == "binary" and not names else (names[1] if len(names) > 1 else f"{vrange[1]:.2g}")
                t.append("■", "rgb(245,147,34)")
                t.append(f" {neg}  ")
                t.append("■", "rgb(8,119,189)")
                t.append(f" {pos}  ")
            t.append("bright dots: train", "dim")
            t.append(", pale: test" if opts.show_test else "", "dim")
        else:
            t.append("ramp ' .:-=+*#%@' = output low→high; o/x train" + (", O/X test" if opts.show_test else ""),
                     "dim")
        t.append(f"   x1 → x2 ↑ in [{lo:g}, {hi:g}]", "dim")
        return t


class NeuronGrid(Widget):
    """Every input feature and hidden unit over the plane, one column per layer (orange < 0 < blue)."""

    DEFAULT_CSS = """
    NeuronGrid { width: auto; height: auto; }
    """

    def __init__(self, *, thumb: int = 6, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: tuple = ()
        self.thumb = thumb
        self.color = True

    def set_data(self, columns: tuple, color: bool) -> None:
        changed = len(columns) != len(self.columns)
        self.columns, self.color = columns, color
        self.refresh(layout=True if changed else False)

    def _thumb_rows(self) -> int:
        return self.thumb // 2

    def get_content_width(self, container, viewport) -> int:
        return max(10, len(self.columns) * (self.thumb + 1))

    def get_content_height(self, container, viewport, width: int) -> int:
        most = max((len(p) for _, p in self.columns), default=0)
        return 1 + most * (self._thumb_rows() + 1)

    def render(self):
        if not self.columns:
            return Text("", style="dim")
        t, tr = self.thumb, self._thumb_rows()
        col_lines = []
        for ci, (name, panels) in enumerate(self.columns):
            lines = [[Segment(name[:t].ljust(t + 1), Style(bold=True))]]
            for p in panels:
                scale = None if ci == 0 else max(1.0, float(np.abs(p.data).max()) if p.data.size else 1.0)
                v = render.symmetric(p.data, scale)
                if self.color:
                    for segs in render.half_block_lines(render.diverging(resample(v, 2 * tr, t))):
                        lines.append(segs + [Segment(" ")])
                else:
                    small = resample((v + 1) / 2, tr, t // 2)
                    idx = np.rint(np.clip(small, 0, 1) * (len(render.RAMP) - 1)).astype(int)
                    for row in idx.tolist():
                        lines.append([Segment("".join(render.RAMP[k] * 2 for k in row).ljust(t) + " ")])
                lines.append([Segment(p.title[:t].ljust(t + 1), Style(dim=True))])
            col_lines.append(lines)
        height = max(len(c) for c in col_lines)
        out = Text()
        segments: list[Segment] = []
        for r in range(height):
            for c in col_lines:
                segments.extend(c[r] if r < len(c) else [Segment(" " * (t + 1))])
            segments.append(Segment.line())
        return _Segments(segments) if segments else out


class _Segments:
    def __init__(self, segments: list[Segment]):
        self.segments = segments

    def __rich_console__(self, console, options):
        yield from self.segments

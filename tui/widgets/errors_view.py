"""Where the classifier is wrong: the confusion matrix on the test set, and test images with predictions."""
from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from .. import render
from .output import _Segments, resample


def _label(name) -> str:
    return {"\n": "⏎", " ": "␣", "\t": "⇥"}.get(str(name), str(name))


def top_confusions(cm: np.ndarray, names: list[str], n: int = 10) -> Table:
    """For many classes: the most frequent mistakes instead of the whole matrix."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for col in ("true", "predicted as", "times", "of the true class"):
        table.add_column(col, justify="right" if col != "predicted as" else "left")
    rows = cm.sum(axis=1)
    for flat in np.argsort(off, axis=None)[::-1][:n]:
        i, j = np.unravel_index(flat, off.shape)
        if off[i, j] == 0:
            break
        table.add_row(names[i], names[j], str(int(off[i, j])), f"{off[i, j] / max(1, rows[i]):.0%}")
    return table


def confusion_table(cm: np.ndarray, names: list[str] | None) -> Table:
    k = cm.shape[0]
    names = [_label(n) for n in (names or range(k))][:k] + [str(i) for i in range(len(names or ()), k)]
    if k > 12:
        return top_confusions(cm, names)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("true \\ predicted", justify="right", no_wrap=True)
    for n in names:
        table.add_column(n[:6], justify="right", no_wrap=True)
    table.add_column("recall", justify="right")
    row_tot = cm.sum(axis=1)
    top = max(1, int(cm.max()))
    for i in range(k):
        cells = []
        for j in range(k):
            v = int(cm[i, j])
            if i == j:
                style = "bold green" if v else "dim"
            else:
                style = "bold red" if v > 0.1 * max(1, row_tot[i]) else ("yellow" if v else "dim")
            shade = " ░▒▓█"[min(4, int(4 * v / top + 0.999))] if v else " "
            cells.append(Text(f"{v}{shade}", style=style))
        recall = cm[i, i] / row_tot[i] if row_tot[i] else 0.0
        table.add_row(names[i][:14], *cells, f"{recall:.0%}")
    return table


def _images(samples, width: int, color: bool, captions: bool = False):
    return sample_strip(samples, width, color, captions)


def sample_strip(samples, width: int, color: bool, captions: bool = True):
    """Test images with true and predicted class; wrong predictions marked ✗."""
    size = 16
    per_row = max(1, width // (size + 2))
    segs: list[Segment] = []
    for start in range(0, len(samples), per_row):
        chunk = samples[start:start + per_row]
        pics = []
        for img, *_ in chunk:
            v = render.unit(img, 0.0, max(1e-6, float(img.max())))
            if color:
                pics.append(render.half_block_lines(render.gray(resample(v, size, size))))
            else:
                small = resample(v, size // 2, size // 2)
                idx = np.rint(small * (len(render.RAMP) - 1)).astype(int)
                pics.append([[Segment("".join(render.RAMP[k] * 2 for k in row))] for row in idx.tolist()])
        for r in range(size // 2):
            for p in pics:
                segs.extend(p[r])
                segs.append(Segment("  "))
            segs.append(Segment.line())
        if not captions:
            continue
        for _, true, pred, conf in chunk:
            mark = "✓" if true == pred else "✗"
            segs.append(Segment(f"{mark} {pred} ({conf:.0%})".ljust(size + 2)[: size + 2]))
        segs.append(Segment.line())
        for _, true, _, _ in chunk:
            segs.append(Segment(f"  true {true}".ljust(size + 2)[: size + 2]))
        segs.append(Segment.line())
    return _Segments(segs)


def recon_strip(pairs, width: int, color: bool, max_rows: int | None = None):
    """Test inputs with the network's output for each right below it, in bands as wide as ``width``.

    ``max_rows``: at most this many bands (the pairs that do not fit are left out).
    """
    per_row = max(1, width // 18)
    bands = [pairs[i:i + per_row] for i in range(0, len(pairs), per_row)][:max_rows]
    parts: list = []
    for band in bands:
        parts += [Text("originals", style="dim"),
                  _images([(a, 0, 0, 0.0) for a, _ in band], width, color),
                  Text("reconstructions", style="dim"),
                  _images([(b, 0, 0, 0.0) for _, b in band], width, color)]
    return Group(*parts)


def series_table(rows, task: str) -> Table:
    """Test sequences as sparklines with the target and the network's answer."""
    bars = "▁▂▃▄▅▆▇█"
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("test input over time (first feature)", no_wrap=True)
    table.add_column("target", justify="right")
    table.add_column("network", justify="right")
    for seq, true, pred in rows:
        lo, hi = float(np.min(seq)), float(np.max(seq))
        idx = ((np.asarray(seq) - lo) / (hi - lo) * 7).astype(int) if hi > lo else np.zeros(len(seq), int)
        table.add_row("".join(bars[i] for i in idx[:60]), f"{true:.3f}" if task == "regression" else str(true),
                      pred)
    return table


class ErrorsView(Widget):
    DEFAULT_CSS = """
    ErrorsView { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.visuals = None
        self.dataset = None
        self.color = True
        self.gan = False

    def set_data(self, visuals, dataset, color: bool, gan: bool = False) -> None:
        self.visuals, self.dataset, self.color, self.gan = visuals, dataset, color, gan
        self.refresh(layout=True)

    def render(self):
        vis, ds = self.visuals, self.dataset
        if ds is None:
            return Text("no data yet", style="dim")
        if self.gan:
            return Text("A GAN has no right answers to get wrong: see its samples and how many modes or classes "
                        "they cover in 1 Output, and D(real) / D(fake) in 2 Curves.", style="dim")
        if ds.task not in ("binary", "multiclass"):
            return Text("A confusion matrix needs a classifier; this dataset is "
                        f"{ds.task}. The regression error is the val loss in 2 Curves.", style="dim")
        if vis is None or vis.confusion is None:
            return Text("computing…", style="dim")
        cm = vis.confusion
        acc = np.trace(cm) / max(1, cm.sum())
        names = ds.class_names or None
        parts: list = [Text(f"Confusion matrix on {int(cm.sum())} test samples — accuracy {acc:.1%}", style="bold"),
                       confusion_table(cm, names),
                       Text("Rows: the true class; columns: what the network said. The diagonal is right; a "
                            "large off-diagonal count shows which classes it confuses.", style="dim")]
        if vis.samples:
            parts += [Text(""), Text("Test samples and predictions", style="bold"),
                      sample_strip(vis.samples, max(20, self.size.width), self.color)]
        return Group(*parts)

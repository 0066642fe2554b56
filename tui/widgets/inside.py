"""Inside one layer: conv feature maps and filters, recurrent states and gates over time, dense unit outputs."""
from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from .. import render
from ..state import ViewOptions
from .output import _Segments, resample


def panel_grid(panels, width: int, cell_w: int, cell_h: int, color: bool, global_scale: bool,
               signed: bool = True):
    """Pictures side by side, wrapped to ``width``; each ``cell_w`` x ``cell_h`` cells with a caption.

    ``global_scale``: one colour scale for all panels (compare magnitudes); otherwise each panel uses its
    own (see the pattern in each). Returns (renderable, scale text).
    """
    if not panels:
        return Text(""), ""
    biggest = max(float(np.abs(p.data).max()) if p.data.size else 0.0 for p in panels) or 1.0
    lows = min(float(p.data.min()) for p in panels)
    per_row = max(1, width // (cell_w + 1))
    segments: list[Segment] = []
    for start in range(0, len(panels), per_row):
        chunk = panels[start:start + per_row]
        blocks = []
        for p in chunk:
            if signed:
                v = render.symmetric(p.data, biggest if global_scale else None)
            else:
                v = render.unit(p.data, lows if global_scale else None, biggest if global_scale else None)
            blocks.append(_picture(v, cell_w, cell_h, color, signed))
        for r in range(cell_h):
            for b in blocks:
                segments.extend(b[r])
                segments.append(Segment(" "))
            segments.append(Segment.line())
        for p in chunk:
            segments.append(Segment(p.title[:cell_w].ljust(cell_w + 1), Style(dim=True)))
        segments.append(Segment.line())
    scale = f"one scale for all: |max| {biggest:.3g}" if global_scale else "each picture scaled to its own range"
    return _Segments(segments), scale


def _picture(v: np.ndarray, w: int, h: int, color: bool, signed: bool) -> list[list[Segment]]:
    if color:
        img = render.diverging(resample(v, 2 * h, w)) if signed else render.gray(resample(v, 2 * h, w))
        return render.half_block_lines(img)
    u = (v + 1) / 2 if signed else v
    idx = np.rint(np.clip(resample(u, h, max(1, w // 2)), 0, 1) * (len(render.RAMP) - 1)).astype(int)
    return [[Segment("".join(render.RAMP[k] * 2 for k in row).ljust(w))] for row in idx.tolist()]


class InsideView(Widget):
    """The chosen layer (, . to change) for the chosen sample (< > to change)."""

    DEFAULT_CSS = """
    InsideView { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.visuals = None
        self.options = ViewOptions()
        self.plane = False

    def set_data(self, visuals, options: ViewOptions, plane: bool) -> None:
        self.visuals, self.options, self.plane = visuals, options, plane
        self.refresh(layout=True)

    def render(self):
        vis, opts = self.visuals, self.options
        width = max(20, self.size.width)
        if self.plane:
            return Text("Each picture: one input feature or hidden unit over the whole plane "
                        "(orange < 0 < blue). A unit's picture is the feature it has learned; the output "
                        "combines them. See 1 Output for the small version next to the boundary.", style="dim")
        if vis is None or vis.inside is None:
            return Text("computing…  (this view shows one layer of the network for one sample)", style="dim")
        ins = vis.inside
        head = Text.assemble(("layer ", "dim"), (f"{ins.index + 1}/{ins.n_layers} {ins.layer}", "bold"),
                             ("  ( , . layer   < > sample   s scale )   ", "dim"), (ins.note, "dim"))
        parts: list = [head]
        if ins.kind == "conv":
            if ins.source is not None:
                src, _ = panel_grid([ins.source], width, 16, 8, opts.color, False, signed=False)
                parts += [Text("the sample", style="bold"), src]
            maps, scale = panel_grid(list(ins.panels), width, 16, 8, opts.color, opts.global_scale)
            parts += [Text("feature maps (what each filter found in this sample)", style="bold"), maps,
                      Text(scale, style="dim")]
            if ins.filters:
                filt, fscale = panel_grid(list(ins.filters), width, 6, 3, opts.color, opts.global_scale)
                parts += [Text("learned filters (kernel, averaged over input channels)", style="bold"), filt,
                          Text(fscale, style="dim")]
        elif ins.kind == "recurrent":
            for p in ins.panels:
                h = max(2, min(12, (p.data.shape[0] + 1) // 2))
                w = min(width - 2, max(20, p.data.shape[1] * 2))
                pic, _ = panel_grid([p], width, w, h, opts.color, False)
                parts += [Text(f"{p.title}: rows = units, columns = time steps →", style="bold"), pic]
        elif ins.kind == "dense":
            p = ins.panels[0]
            pic, _ = panel_grid([p], width, min(width - 2, max(8, p.data.shape[1] * 2)), 1, opts.color, False)
            parts += [Text("unit outputs for this sample (orange < 0 < blue)", style="bold"), pic]
        else:
            parts.append(Text("this layer has no picture (no spatial or temporal output)", style="dim"))
        legend = Text("colour: orange negative, dark zero, blue positive" if opts.color
                      else "ramp ' .:-=+*#%@' = low→high", style="dim")
        parts.append(legend)
        return Group(*parts)

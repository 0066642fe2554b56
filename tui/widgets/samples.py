"""The output view of generative models: a GAN's samples (over the real data, or as a grid of images) and an
autoencoder's reconstructions next to its latent space.

The pictures are drawn from numbers the training worker computed (see ``sample_probes``); here they
are only placed on a character grid: half-blocks in colour, single characters without colour, so real and
generated points, and classes, stay apart under NO_COLOR too.
"""
from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .. import render
from .errors_view import recon_strip, sample_strip

REAL_RGB = np.array([96, 104, 128], np.uint8)        #: real data: dim grey-blue
FAKE_RGB = np.array([255, 178, 80], np.uint8)        #: generated samples: bright orange
REAL_CHAR, FAKE_CHAR = ".", "o"
IMAGE_CELL = 18                                      #: columns one 16x16 image takes with its gap


def picture_size(width: int, height: int, color: bool) -> tuple[int, int]:
    """Pixels (cols, rows) of a square plot that fits ``width`` x ``height`` cells (as the boundary does)."""
    if color:
        side = max(4, min(width, 2 * height))
        side -= side % 2
    else:
        side = max(4, min(width // 2, height))
    return side, side


def scatter(layers, bounds: tuple[float, float, float, float], width: int, height: int, color: bool):
    """Points on a dark plane, layer after layer (later layers on top).

    ``layers``: ``(points (n, 2), colours (n, 3) or (3,), chars (n,) or one str)``; x grows to the right,
    y upwards; points outside ``bounds`` (x0, x1, y0, y1) are left out rather than piled on the edge.
    """
    x0, x1, y0, y1 = bounds
    cols, rows = picture_size(width, height, color)
    rgb = np.empty((rows, cols, 3), np.uint8)
    rgb[:] = render.NEUTRAL.astype(np.uint8)
    marks: dict[tuple[int, int], str] = {}
    for pts, colours, chars in layers:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        u = np.column_stack([(pts[:, 0] - x0) / max(x1 - x0, 1e-12), (pts[:, 1] - y0) / max(y1 - y0, 1e-12)])
        keep = np.isfinite(u).all(axis=1) & (u >= 0).all(axis=1) & (u <= 1).all(axis=1)
        u = u[keep]
        if color:
            c = np.asarray(colours)
            rgb = render.with_points(rgb, u, c[keep] if c.ndim == 2 else c, (0.0, 1.0))
            continue
        r, c = render.pixel_index(u, (0.0, 1.0), cols, rows)
        ch = [chars] * len(u) if isinstance(chars, str) else np.asarray(chars)[keep].tolist()
        for rr, cc, k in zip(r.tolist(), c.tolist(), ch):
            marks[(rr, cc)] = k
    return render.HalfBlocks(rgb) if color else render.Shade(np.zeros((rows, cols), np.float32), marks)


# ------------------------------------------------------------------ GANs
def coverage_text(metrics: dict, n_modes: int | None = None, n_classes: int | None = None) -> str:
    """"modes covered 6/8 · 93% of samples near a mode" from a GAN's sample metrics ("" without them)."""
    parts = []
    if "modes_covered" in metrics:
        parts.append(f"modes covered {int(metrics['modes_covered'])}" + (f"/{n_modes}" if n_modes else ""))
    if "segments_covered" in metrics:
        parts.append(f"curve segments covered {int(metrics['segments_covered'])}")
    if "classes_covered" in metrics:
        parts.append(f"classes covered {int(metrics['classes_covered'])}" + (f"/{n_classes}" if n_classes else ""))
    if "high_quality" in metrics:
        near = "a mode" if "modes_covered" in metrics else "the curve" if "segments_covered" in metrics else \
            "a real image (as near as real test images are)"
        parts.append(f"{float(metrics['high_quality']):.0%} of samples near {near}")
    return " · ".join(parts)


def gan_view(g, history: dict, n_classes: int | None, width: int, height: int, color: bool):
    """A GAN's generated samples: over the real data in the plane, or as a grid of images."""
    if g.points is not None:
        lo, hi = g.domain
        head = Text(f"{g.n_z} generated samples (fixed noise z) over the real data", style="bold", no_wrap=True,
                    overflow="ellipsis")
        cover = coverage_text(g.metrics, g.n_modes)
        layers = [(g.real, REAL_RGB, REAL_CHAR), (g.points, FAKE_RGB, FAKE_CHAR)]
        pic = scatter(layers, (lo, hi, lo, hi), width, height - 3, color)
        legend = Text(no_wrap=True, overflow="ellipsis")
        if color:
            legend.append("■", Style(color=f"rgb({REAL_RGB[0]},{REAL_RGB[1]},{REAL_RGB[2]})"))
            legend.append(" real data  ")
            legend.append("■", Style(color=f"rgb({FAKE_RGB[0]},{FAKE_RGB[1]},{FAKE_RGB[2]})"))
            legend.append(" generated")
        else:
            legend.append(f"{REAL_CHAR} real data  {FAKE_CHAR} generated")
        legend.append(f"   x1 → x2 ↑ in [{lo:g}, {hi:g}]", "dim")
        return Group(head, Text(cover or "sample metrics: none for this dataset", no_wrap=True,
                                overflow="ellipsis"), pic, legend)
    if g.images:
        per_row = max(1, width // IMAGE_CELL)
        rows = max(1, (height - 2) // 8)
        shown = g.images[:per_row * rows]
        last = {k: v[-1] for k, v in history.items() if v}
        cover = coverage_text(last, n_classes=n_classes)
        cover = f"after epoch {len(history.get('g_loss', ()))}: {cover}" if cover else \
            "coverage is measured after each epoch (press space to train)"
        return Group(Text(f"{len(shown)} generated samples (fixed noise z, the same every refresh)",
                          style="bold", no_wrap=True, overflow="ellipsis"),
                     Text(cover, no_wrap=True, overflow="ellipsis"),
                     sample_strip([(img, 0, 0, 0.0) for img in shown], width, color, captions=False))
    return Text("this GAN's samples have no picture here (neither points in the plane nor images)", style="dim")


# ------------------------------------------------------------------ autoencoders
def _lines(text: str, width: int) -> int:
    """About how many lines ``text`` wraps to at ``width`` (words may push it one further)."""
    return max(1, -(-(len(text) + len(text) // 12) // max(1, width)))


def latent_view(lat, class_names, width: int, height: int, color: bool):
    """The latent scatter coloured by class (classes as their own characters without colour)."""
    names = [str(n) for n in (class_names or [])]
    k = int(lat.labels.max()) + 1 if len(lat.labels) else 0
    names += [str(i) for i in range(len(names), k)]
    if lat.dims == 2:
        head = f"Latent space: the 2-D bottleneck codes of {len(lat.labels)} samples"
    elif lat.dims == 1:
        head = f"Latent space: the 1-number bottleneck code of {len(lat.labels)} samples (x axis)"
    else:
        head = (f"Latent space: the {lat.dims}-number bottleneck codes of {len(lat.labels)} samples, projected "
                f"to 2-D with PCA ({lat.explained:.0%} of their variance)")
    chars = np.array([(names[int(y)][:1] or "?") if int(y) < len(names) else render.CLASS_CHARS[int(y) % 10]
                      for y in lat.labels])
    colours = render.point_colours(lat.labels, "multiclass", (0.0, 1.0))
    legend = Text()
    if color:
        swatch = render.point_colours(np.arange(len(names)), "multiclass", (0.0, 1.0))
        for i, name in enumerate(names):
            rgb = swatch[i].astype(int)
            legend.append("■", Style(color=f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"))
            legend.append(f"{name}{' (held out)' if i == lat.held_out else ''} ")
    else:
        legend.append("each point is drawn as its class" + (f"; {lat.held_out} is held out" if
                                                            lat.held_out is not None else ""))
    words = _lines(head, width) + _lines(legend.plain, width) + (_lines(lat.separation, width) if lat.separation else 0)
    pic = scatter([(lat.points, colours, chars)], lat.bounds, width, max(4, height - words), color)
    parts = [Text(head, style="bold"), pic, legend]
    if lat.separation:
        parts.append(Text(lat.separation, style="italic"))
    return Group(*parts)


def autoencoder_view(recon, lat, class_names, width: int, height: int, color: bool):
    """Originals above reconstructions, with the latent scatter beside them when there is room."""
    if lat is None:
        return recon_strip(recon, width, color, max_rows=max(1, height // 18)) if recon else Text("")
    if not recon:
        return latent_view(lat, class_names, width, height, color)
    pairs = max(1, min(4, (width - 34) // IMAGE_CELL))
    left = pairs * IMAGE_CELL
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=left, no_wrap=True)
    grid.add_column(width=max(20, width - left - 1), no_wrap=False)
    grid.add_row(recon_strip(recon[:pairs], left, color, max_rows=1),
                 latent_view(lat, class_names, max(20, width - left - 1), height, color))
    return grid

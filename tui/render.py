"""2-D arrays as Rich renderables: half-blocks in colour, a shade ramp without colour.

``▀`` draws two pixels per cell (foreground = upper row, background = lower row), so a cell-grid of
W x H shows W x 2H pixels with square-ish pixels. Without colour (NO_COLOR, ``--no-color``, no colour
system) half-blocks carry no information, so :class:`Shade` draws each value as two characters of the
ramp ``" .:-=+*#%@"`` instead (one pixel per row, the same aspect).
"""
from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.color import Color
from rich.style import Style

RAMP = " .:-=+*#%@"
NEG = np.array([245, 147, 34], np.float32)      # orange: negative / class 0 (TensorFlow Playground)
POS = np.array([8, 119, 189], np.float32)       # blue: positive / class 1
NEUTRAL = np.array([38, 40, 48], np.float32)    # dark grey: undecided, suits dark terminals
POINT_NEG = np.array([255, 178, 80], np.float32)
POINT_POS = np.array([80, 190, 255], np.float32)
PALETTE = np.array([[245, 147, 34], [8, 119, 189], [90, 200, 90], [220, 70, 90], [170, 110, 220],
                    [230, 210, 60], [60, 200, 200], [200, 120, 160], [150, 150, 150], [120, 90, 40]],
                   np.float32)
CLASS_CHARS = "oxv^*#@%&$"
_STYLES: dict[tuple, Style] = {}


def _style(top: tuple, bottom: tuple) -> Style:
    key = (top, bottom)
    style = _STYLES.get(key)
    if style is None:
        if len(_STYLES) > 50_000:
            _STYLES.clear()
        style = _STYLES[key] = Style.from_color(Color.from_rgb(*top), Color.from_rgb(*bottom))
    return style


# ------------------------------------------------------------------ colour maps -> (H, W, 3) uint8
def _mix(weight: np.ndarray, colour: np.ndarray) -> np.ndarray:
    w = np.clip(weight, 0.0, 1.0)[..., None]
    return NEUTRAL * (1.0 - w) + colour * w


def diverging(v: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """v in [-1, 1]: orange below 0, blue above, dark at 0."""
    v = np.nan_to_num(np.asarray(v, np.float32))
    rgb = np.where((v < 0)[..., None], _mix(-v * strength, NEG), _mix(v * strength, POS))
    return _quant(rgb)


def classes(cls: np.ndarray, conf: np.ndarray, n: int, strength: float = 0.8) -> np.ndarray:
    """Class k in colour k, brighter where the network is surer."""
    cls = np.asarray(cls).astype(np.int64) % len(PALETTE)
    lo = 1.0 / max(n, 2)
    w = (np.asarray(conf, np.float32) - lo) / (1.0 - lo)
    return _quant(_mix(w * strength, PALETTE[cls]))


def gray(v: np.ndarray) -> np.ndarray:
    """v in [0, 1]: black to white."""
    g = np.clip(np.nan_to_num(np.asarray(v, np.float32)), 0, 1) * 255
    return _quant(np.repeat(g[..., None], 3, axis=-1))


def _quant(rgb: np.ndarray) -> np.ndarray:
    # 32 levels per channel: no visible banding in a terminal, and neighbouring cells share styles more often
    # (fewer segments to draw)
    return (np.clip(rgb, 0, 255).astype(np.uint8) // 8) * 8


def symmetric(a: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Scale to [-1, 1] by the largest magnitude (or ``scale``)."""
    a = np.nan_to_num(np.asarray(a, np.float32))
    m = scale if scale is not None else float(np.abs(a).max()) if a.size else 1.0
    return a / m if m > 0 else a * 0


def unit(a: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Scale to [0, 1] between ``lo`` and ``hi`` (default: the array's own range)."""
    a = np.nan_to_num(np.asarray(a, np.float32))
    lo = float(a.min()) if lo is None and a.size else (lo or 0.0)
    hi = float(a.max()) if hi is None and a.size else (hi if hi is not None else 1.0)
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


# ------------------------------------------------------------------ renderables
class HalfBlocks:
    """An RGB image (H, W, 3) as W columns x ceil(H/2) lines of ``▀``."""

    def __init__(self, rgb: np.ndarray):
        if rgb.shape[0] % 2:
            rgb = np.concatenate([rgb, np.zeros_like(rgb[:1])], axis=0)
        self.rgb = rgb

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.rgb.shape[1], self.rgb.shape[1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from half_block_segments(self.rgb)


def half_block_segments(rgb: np.ndarray):
    """Segments for an RGB image (even height), one line per two pixel rows."""
    for line in half_block_lines(rgb):
        yield from line
        yield Segment.line()


def half_block_lines(rgb: np.ndarray) -> list[list[Segment]]:
    """One list of segments per two pixel rows; runs of equal cells are merged, which keeps Textual's
    per-segment work small for the large flat areas of a confident boundary."""
    rows = rgb.tolist()
    lines = []
    for r in range(0, len(rows) - 1, 2):
        line, run_key, run = [], None, 0
        for t, b in zip(rows[r], rows[r + 1]):
            key = (tuple(t), tuple(b))
            if key == run_key:
                run += 1
                continue
            if run:
                line.append(Segment("▀" * run, _style(*run_key)))
            run_key, run = key, 1
        if run:
            line.append(Segment("▀" * run, _style(*run_key)))
        lines.append(line)
    return lines


class Shade:
    """Values in [0, 1] (H, W) as 2W characters x H lines of the ramp; ``marks`` overrides single pixels."""

    def __init__(self, values: np.ndarray, marks: dict[tuple[int, int], str] | None = None, ramp: str = RAMP):
        self.values = np.clip(np.nan_to_num(np.asarray(values, np.float32)), 0, 1)
        self.marks = marks or {}
        self.ramp = ramp

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(2 * self.values.shape[1], 2 * self.values.shape[1])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        top = len(self.ramp) - 1
        idx = np.rint(self.values * top).astype(int)
        for r, row in enumerate(idx.tolist()):
            chars = []
            for c, k in enumerate(row):
                mark = self.marks.get((r, c))
                chars.append(mark + mark if mark else self.ramp[k] * 2)
            yield Segment("".join(chars))
            yield Segment.line()


def with_points(rgb: np.ndarray, pts: np.ndarray, colours: np.ndarray, domain: tuple[float, float]) -> np.ndarray:
    """Paint data points (n, 2) onto an image of the plane (row 0 = top = largest x2)."""
    h, w = rgb.shape[:2]
    rows, cols = pixel_index(pts, domain, w, h)
    out = rgb.copy()
    out[rows, cols] = colours
    return out


def pixel_index(pts: np.ndarray, domain: tuple[float, float], w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = domain
    cols = np.clip(((pts[:, 0] - lo) / (hi - lo) * w).astype(int), 0, w - 1)
    rows = np.clip(((hi - pts[:, 1]) / (hi - lo) * h).astype(int), 0, h - 1)
    return rows, cols


def point_colours(labels: np.ndarray, task: str, value_range: tuple[float, float], light: bool = False) -> np.ndarray:
    """Bright colours for points: by class, or by target value for regression."""
    labels = np.asarray(labels)
    if task == "regression":
        lo, hi = value_range
        v = np.clip(labels.reshape(-1) / max(abs(lo), abs(hi), 1e-9), -1, 1)[:, None]
        rgb = np.where(v < 0, POINT_NEG, POINT_POS) * (0.55 + 0.45 * np.abs(v))
    elif task == "binary":
        rgb = np.where(labels.reshape(-1, 1) > 0, POINT_POS, POINT_NEG)
    else:
        rgb = np.minimum(PALETTE[labels.reshape(-1).astype(int) % len(PALETTE)] * 1.25 + 30, 255)
    if light:
        rgb = rgb * 0.45 + 255 * 0.55
    return _quant(rgb)


def blank(width: int, height: int, color: bool) -> object:
    """An empty picture of the given cell size."""
    if color:
        return HalfBlocks(np.zeros((2 * height, width, 3), np.uint8) + NEUTRAL.astype(np.uint8))
    return Shade(np.zeros((height, max(1, width // 2))))

"""Small procedural images (shapes, font-digits) and the wave1d signal set.

Images are float32 in [0, 1], channels-last (n, H, W, 1). wave1d runs the MNIST-1D pipeline
(Greydanus, Apache-2.0) on ten templates written for nnplay, and returns (n, 40, 1) sequences.
"""
from __future__ import annotations

import math

import numpy as np

from ._base import Param, as_f32, as_i64, build_split, p_noise, p_ratio, p_samples, p_seed, register

MAX_IMAGES = 200_000

# --------------------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------------------
SHAPE_NAMES = ["circle", "square", "triangle", "plus", "cross", "line"]
_C45 = math.sqrt(0.5)
_TRI = [(math.cos(math.radians(a)), math.sin(math.radians(a))) for a in (90, 210, 330)]
_SEGMENTS = {  # unit shape coordinates, y pointing up; class 0 (circle) is drawn by radius
    1: [((-1, -1), (1, -1)), ((1, -1), (1, 1)), ((1, 1), (-1, 1)), ((-1, 1), (-1, -1))],
    2: [(_TRI[0], _TRI[1]), (_TRI[1], _TRI[2]), (_TRI[2], _TRI[0])],
    3: [((-1, 0), (1, 0)), ((0, -1), (0, 1))],
    4: [((-_C45, -_C45), (_C45, _C45)), ((-_C45, _C45), (_C45, -_C45))],
    5: [((-1, 0), (1, 0))],
}


def _segment_distance(ux, uy, a, b):
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    px, py = ux - ax, uy - ay
    t = np.clip((px * dx + py * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(px - t * dx, py - t * dy)


def render_shapes(labels: np.ndarray, size: int, rng: np.random.Generator, sub: int = 3) -> np.ndarray:
    """Draw one anti-aliased outline per label (indices into SHAPE_NAMES); returns (n, size, size) float32."""
    n = len(labels)
    S = size
    r = rng.uniform(0.22, 0.40, n) * S
    cx = rng.uniform(r + 0.5, S - r - 0.5)
    cy = rng.uniform(r + 0.5, S - r - 0.5)
    angle = np.where(labels == 5, rng.uniform(0, np.pi, n), np.radians(rng.uniform(-15, 15, n)))
    width = rng.uniform(1.0, 2.0, n)
    fine = ((np.arange(S * sub) + 0.5) / sub).astype(np.float32)  # sub-sample centres in pixels
    out = np.empty((n, S, S), dtype=np.float32)
    chunk = max(1, 400_000 // (S * S * sub * sub))
    for cls in range(len(SHAPE_NAMES)):
        idx_all = np.flatnonzero(labels == cls)
        for start in range(0, len(idx_all), chunk):
            idx = idx_all[start:start + chunk]
            rr = r[idx, None, None].astype(np.float32)
            qx = fine[None, None, :] - cx[idx, None, None].astype(np.float32)
            qy = cy[idx, None, None].astype(np.float32) - fine[None, :, None]  # image rows grow downwards
            c = np.cos(angle[idx])[:, None, None].astype(np.float32)
            s = np.sin(angle[idx])[:, None, None].astype(np.float32)
            ux = (c * qx + s * qy) / rr
            uy = (-s * qx + c * qy) / rr
            if cls == 0:
                d = np.abs(np.hypot(ux, uy) - 1.0)
            else:
                d = None
                for a, b in _SEGMENTS[cls]:
                    e = _segment_distance(ux, uy, a, b)
                    d = e if d is None else np.minimum(d, e)
            on = (d * rr < (width[idx, None, None] / 2).astype(np.float32)).astype(np.float32)
            out[idx] = on.reshape(len(idx), S, sub, S, sub).mean(axis=(2, 4))
    return out


def _add_noise(img: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    img = img + rng.normal(0.0, noise, img.shape).astype(np.float32)  # drawn even at 0: same shapes and split
    return np.clip(img, 0.0, 1.0, out=img).astype(np.float32)


@register("shapes", "16x16 outlines of 6 shapes: circle, square, triangle, plus, cross, line (image)", "image",
          [p_samples(3000, hi=MAX_IMAGES), Param("size", 16, "int", lo=8, hi=28, help="image side in pixels"),
           p_noise(0.1, 1.0, "std of the Gaussian pixel noise"), p_ratio(0.8), p_seed()])
def _shapes(p):
    rng, n, S = np.random.default_rng(p["seed"]), p["n_samples"], p["size"]
    y = rng.permutation(np.arange(n) % len(SHAPE_NAMES))
    x = _add_noise(render_shapes(y, S, rng), p["noise"], rng)[..., None]
    desc = (f"shapes: {S}x{S} outlines of {', '.join(SHAPE_NAMES)}; pixel noise {p['noise']}; "
            "{n_train} train / {n_test} test images.")
    return build_split("shapes", "multiclass", x, as_i64(y), rng, p, desc, n_classes=6,
                       class_names=list(SHAPE_NAMES), meta={"image": True})


# --------------------------------------------------------------------------------------------------
# font-digits: a 5x7 bitmap font written for nnplay (hex rows, bit 4 = left column)
# --------------------------------------------------------------------------------------------------
FONT_5X7 = {
    0: "0E 11 13 15 19 11 0E", 1: "04 0C 04 04 04 04 0E", 2: "0E 11 01 02 04 08 1F",
    3: "1F 02 04 02 01 11 0E", 4: "02 06 0A 12 1F 02 02", 5: "1F 10 1E 01 01 11 0E",
    6: "06 08 10 1E 11 11 0E", 7: "1F 01 02 04 08 08 08", 8: "0E 11 11 0E 11 11 0E",
    9: "0E 11 11 0F 01 02 0C",
}


def glyph_bitmaps() -> np.ndarray:
    """The ten digits as a (10, 7, 5) float array of 0/1."""
    rows = np.array([[int(h, 16) for h in FONT_5X7[d].split()] for d in range(10)])
    return ((rows[:, :, None] >> (4 - np.arange(5))[None, None, :]) & 1).astype(np.float64)


def render_digits(labels: np.ndarray, size: int, rng: np.random.Generator, rotation: float = 12.0,
                  shift: float = 1.5, glyphs: np.ndarray | None = None) -> np.ndarray:
    """Randomly scaled, rotated (up to ``rotation`` degrees), sheared and shifted (up to ``shift`` pixels)
    glyphs (``glyphs``: (10, 7, 5) bitmaps, default :func:`glyph_bitmaps`), sampled bilinearly;
    (n, size, size) float32."""
    n, S = len(labels), size
    # Glyph padded by 1 empty cell (9 x 7) plus 1 more zero cell so that clipped lookups read zeros.
    bank = np.zeros((10, 11, 9))
    bank[:, 2:9, 2:7] = glyph_bitmaps() if glyphs is None else glyphs
    centre_row, centre_col = 5.0, 4.0  # centre of the glyph inside `bank`
    scale = rng.uniform(0.8, 1.1, n) * (0.75 * S / 7.0)
    theta = np.radians(rng.uniform(-rotation, rotation, n))
    shear = rng.uniform(-0.25, 0.25, n)
    shift = rng.uniform(-shift, shift, (n, 2))
    pix = np.arange(S) + 0.5 - S / 2.0
    qx = pix[None, None, :] - shift[:, 0, None, None]
    qy = pix[None, :, None] - shift[:, 1, None, None]
    c, s = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    k = scale[:, None, None]
    vx = (c * qx + s * qy) / k
    vy = (-s * qx + c * qy) / k
    col = np.clip(vx - shear[:, None, None] * vy + centre_col, 0.0, 8.0 - 1e-6)
    row = np.clip(vy + centre_row, 0.0, 10.0 - 1e-6)
    c0, r0 = np.floor(col).astype(np.intp), np.floor(row).astype(np.intp)
    fc, fr = col - c0, row - r0
    g = labels[:, None, None]
    v = (bank[g, r0, c0] * (1 - fr) * (1 - fc) + bank[g, r0, c0 + 1] * (1 - fr) * fc
         + bank[g, r0 + 1, c0] * fr * (1 - fc) + bank[g, r0 + 1, c0 + 1] * fr * fc)
    return np.clip((v - 0.25) * 2.0, 0.0, 1.0).astype(np.float32)


@register("font-digits", "16x16 digits 0-9 from a 5x7 font with random affine jitter (image)", "image",
          [p_samples(5000, hi=MAX_IMAGES),
           Param("size", 16, "int", lo=12, hi=32, help="image side (16, or 28 for MNIST-like)"),
           p_noise(0.1, 1.0, "std of the Gaussian pixel noise"), p_ratio(0.8), p_seed()])
def _font_digits(p):
    rng, n, S = np.random.default_rng(p["seed"]), p["n_samples"], p["size"]
    y = rng.permutation(np.arange(n) % 10)
    x = _add_noise(render_digits(y, S, rng), p["noise"], rng)[..., None]
    desc = (f"font-digits: {S}x{S} digits drawn from a 5x7 font (scale, rotation, shear, shift jitter); "
            f"pixel noise {p['noise']}; {{n_train}} train / {{n_test}} test images.")
    return build_split("font-digits", "multiclass", x, as_i64(y), rng, p, desc, n_classes=10,
                       class_names=[str(d) for d in range(10)], meta={"image": True})


# --------------------------------------------------------------------------------------------------
# wave1d: the MNIST-1D pipeline with nnplay's own templates
# --------------------------------------------------------------------------------------------------
WAVE_NAMES = ["hill", "step", "ramp", "valley", "two-peaks", "pulse", "sawtooth", "zigzag", "sine", "stairs"]
_RAW_TEMPLATES = np.array([
    [0, 1, 2, 4, 6, 7, 7, 6, 4, 2, 1, 0],
    [0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    [6, 5, 3, 1, 0, 0, 0, 1, 3, 5, 6, 6],
    [0, 3, 6, 3, 0, 0, 0, 3, 6, 3, 0, 0],
    [0, 0, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0],
    [0, 2, 4, 6, 0, 2, 4, 6, 0, 2, 4, 6],
    [0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4],
    [0, 2, 3.5, 4, 3.5, 2, 0, -2, -3.5, -4, -3.5, -2],
    [6, 6, 6, 4, 4, 4, 2, 2, 2, 0, 0, 0],
], dtype=np.float64)


def wave_templates() -> np.ndarray:
    """The ten 12-point templates: whitened, shifted to start at 0, divided by 6."""
    t = _RAW_TEMPLATES - _RAW_TEMPLATES.mean(axis=1, keepdims=True)
    t /= t.std(axis=1, keepdims=True)
    t -= t[:, :1]
    return t / 6.0


def _resample(x: np.ndarray, n_out: int) -> np.ndarray:
    """Linear resampling of every row of x onto n_out evenly spaced points."""
    n_in = x.shape[1]
    pos = np.linspace(0, n_in - 1, n_out)
    k = np.minimum(np.floor(pos).astype(np.intp), n_in - 2)
    f = pos - k
    return x[:, k] * (1 - f) + x[:, k + 1] * f


def _gaussian_smooth(x: np.ndarray, sigma: float = 2.0, truncate: float = 4.0) -> np.ndarray:
    """Row-wise Gaussian filter with mirrored edges (the 'reflect' convention: d c b a | a b c d)."""
    radius = int(truncate * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(x, ((0, 0), (radius, radius)), mode="symmetric")
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=1) @ taps


def make_waves(labels: np.ndarray, rng: np.random.Generator, templates: np.ndarray | None = None,
               final_len: int = 40) -> np.ndarray:
    """Run the MNIST-1D transform (pad, dilate, scale, roll, noise, shear, resample) on every label."""
    t = wave_templates() if templates is None else np.asarray(templates, dtype=np.float64)
    n, tlen = len(labels), t.shape[1]
    lo, hi, max_shift, big = 36, 60, 48, t.shape[1] + 60
    pad = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.intp)
    ext = np.zeros((len(t), big + 1))
    ext[:, :tlen] = t + 1e-8  # the offset keeps the signal distinguishable from the zero padding
    # 1-2: pad with p zeros, then resample the (tlen + p)-point signal to `big` points
    pos = np.arange(big)[None, :] * ((tlen + pad - 1) / (big - 1))[:, None]
    k = np.floor(pos).astype(np.intp)
    f = pos - k
    rows = ext[labels]
    x = np.take_along_axis(rows, k, 1) * (1 - f) + np.take_along_axis(rows, np.minimum(k + 1, big), 1) * f
    x *= 1 + 0.4 * (rng.random(n)[:, None] - 0.5)  # 3: scale
    shift = rng.integers(0, max_shift, n)  # 4: roll right
    x = np.take_along_axis(x, (np.arange(big)[None, :] - shift[:, None]) % big, 1)
    corr = _gaussian_smooth(0.25 * rng.standard_normal(x.shape))  # 5: correlated noise in the padding
    x = np.where(x == 0, corr, x)
    x = x + 0.02 * rng.standard_normal(x.shape)  # 6: white noise
    x = x - 0.75 * (rng.random(n)[:, None] - 0.5) * np.linspace(-0.5, 0.5, big)[None, :]  # 7: shear
    return _resample(x, final_len)  # 8


@register("wave1d", "1-D signals of 10 template shapes (MNIST-1D pipeline); (n, 40, 1) for Conv1D or RNN",
          "sequence", [p_samples(5000, lo=10, hi=MAX_IMAGES), p_ratio(0.8), p_seed()])
def _wave1d(p):
    rng, n = np.random.default_rng(p["seed"]), p["n_samples"]
    y = np.arange(n) % 10
    x = make_waves(y, rng)
    x = (x - x.mean()) / x.std()
    desc = ("wave1d: 40-step signals of 10 template shapes, randomly padded, scaled, shifted, sheared and noised "
            "(MNIST-1D pipeline, Apache-2.0, with nnplay's own templates); {n_train} train / {n_test} test.")
    return build_split("wave1d", "multiclass", as_f32(x[..., None]), as_i64(y), rng, p, desc, n_classes=10,
                       class_names=list(WAVE_NAMES), meta={"sequence": True})

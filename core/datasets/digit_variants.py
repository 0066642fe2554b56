"""Two font-digit sets made for a lesson each, whose test split differs from the training split on purpose.

* ``digits-shifted`` (data augmentation): few training digits, every one upright and centred; the test
  digits are shifted by up to ``shift`` pixels and turned by up to ``rotation`` degrees. A network that only
  saw centred digits has never learned that a moved 3 is still a 3; random shifts and turns of the training
  images in every epoch (``[data.augment]``) teach it.
* ``digits-bold`` (transfer learning): the same digits in the bold face of the font (every stroke a pixel
  wider), with only ``per_class`` training images of each digit. Too few to learn good filters from scratch;
  enough to put a new head on a network trained on ``font-digits``.

Both draw with :func:`~.images.render_digits` (its scale and shear jitter) and are float32 images in [0, 1],
(n, size, size, 1), with int64 labels; the same seed gives the same arrays.
"""
from __future__ import annotations

import numpy as np

from ._base import Dataset, Param, as_i64, jsonable, p_noise, p_seed, register
from .images import _add_noise, glyph_bitmaps, render_digits

_SIZE = Param("size", 16, "int", lo=12, hi=32, help="image side in pixels")


def bold_glyphs() -> np.ndarray:
    """The font's ten digits with every stroke one pixel wider to the right (the bold face), (10, 7, 5)."""
    g = glyph_bitmaps()
    wider = np.zeros_like(g)
    wider[:, :, 1:] = g[:, :, :-1]
    return np.maximum(g, wider)


def _balanced(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels 0..9 with every digit as often as possible (the counts differ by at most one), shuffled."""
    return rng.permutation(np.arange(n) % 10)


def _digits(name: str, x_train, y_train, x_test, y_test, p: dict, description: str) -> Dataset:
    return Dataset(name, "multiclass", x_train[..., None], as_i64(y_train), x_test[..., None], as_i64(y_test),
                   description.replace("{n_train}", str(len(y_train))).replace("{n_test}", str(len(y_test))),
                   n_classes=10, class_names=[str(d) for d in range(10)], meta={"image": True},
                   params=jsonable(p))


@register("digits-shifted", "font digits: centred and upright to train on, shifted and turned in the test split "
                            "(image; for augmentation)", "image",
          [Param("n_train", 300, "int", lo=10, hi=100_000, help="training images (upright, centred)"),
           Param("n_test", 1000, "int", lo=10, hi=100_000, help="test images (shifted and turned)"),
           _SIZE, p_noise(0.1, 1.0, "std of the Gaussian pixel noise"),
           Param("shift", 3.0, "float", lo=0.0, hi=8.0, help="test digits move up to this many pixels each way"),
           Param("rotation", 20.0, "float", lo=0.0, hi=180.0, help="test digits turn up to this many degrees"),
           p_seed()])
def _digits_shifted(p):
    rng, S = np.random.default_rng(p["seed"]), p["size"]
    y_train, y_test = _balanced(p["n_train"], rng), _balanced(p["n_test"], rng)
    x_train = _add_noise(render_digits(y_train, S, rng, rotation=0.0, shift=0.0), p["noise"], rng)
    x_test = _add_noise(render_digits(y_test, S, rng, rotation=p["rotation"], shift=p["shift"]), p["noise"], rng)
    desc = (f"digits-shifted: {S}x{S} font digits; {{n_train}} training images upright and centred, "
            f"{{n_test}} test images shifted up to {p['shift']:g} px and turned up to {p['rotation']:g} degrees; "
            f"pixel noise {p['noise']}.")
    return _digits("digits-shifted", x_train, y_train, x_test, y_test, p, desc)


@register("digits-bold", "font digits in the bold face, a few of each to train on (image; for transfer learning)",
          "image",
          [Param("per_class", 2, "int", lo=1, hi=10_000, help="training images of each digit"),
           Param("n_test", 1000, "int", lo=10, hi=100_000, help="test images"),
           _SIZE, p_noise(0.3, 1.0, "std of the Gaussian pixel noise"), p_seed()])
def _digits_bold(p):
    rng, S = np.random.default_rng(p["seed"]), p["size"]
    y_train, y_test = _balanced(10 * p["per_class"], rng), _balanced(p["n_test"], rng)
    glyphs = bold_glyphs()
    x_train = _add_noise(render_digits(y_train, S, rng, glyphs=glyphs), p["noise"], rng)
    x_test = _add_noise(render_digits(y_test, S, rng, glyphs=glyphs), p["noise"], rng)
    desc = (f"digits-bold: {S}x{S} font digits in the bold face; {p['per_class']} training images of each digit "
            f"({{n_train}}), {{n_test}} test images; pixel noise {p['noise']}.")
    return _digits("digits-bold", x_train, y_train, x_test, y_test, p, desc)

"""``NumpyArrayIterator``: what ``ImageDataGenerator.flow`` returns (:mod:`.image`), and what ``fit`` reads
from it."""
from __future__ import annotations

import numpy as np

from nnplay.core.errors import NnplayError
from nnplay.core.seeding import resolve_seed


class NumpyArrayIterator:
    """What :meth:`ImageDataGenerator.flow` returns: ``len()`` batches, ``iterator[i]``, ``next(iterator)``
    (forever, reshuffling after each pass, as Keras' iterator), and ``model.fit(iterator)``."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, seed=None,
                 subset=None, ignore_class_split=False):
        gen = image_data_generator
        x = np.asarray(x, dtype=gen.dtype)
        if x.ndim != 4:
            raise NnplayError(f"flow needs images of rank 4 (batch, height, width, channels), got shape {x.shape}")
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(x):
                raise NnplayError(f"flow: x and y have different lengths ({len(x)} images, {len(y)} targets)")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise NnplayError(f"flow: subset must be 'training' or 'validation', got subset={subset!r}")
            cut = int(len(x) * gen._validation_split)
            if y is not None and not ignore_class_split and \
                    not np.array_equal(np.unique(y[:cut]), np.unique(y[cut:])):
                raise NnplayError("flow: the training and validation subsets hold different classes after the "
                                  "split; shuffle the data first (or pass ignore_class_split=True)")
            part = slice(0, cut) if subset == "validation" else slice(cut, None)
            x, y = x[part], (None if y is None else y[part])
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise NnplayError(f"flow: batch_size must be a whole number >= 1, got batch_size={batch_size!r}")
        self.x, self.y, self.image_data_generator = x, y, gen
        self.n, self.batch_size, self.shuffle = len(x), int(batch_size), bool(shuffle)
        self.seed = seed
        self.rng = np.random.default_rng(resolve_seed(seed))
        self.index_array: np.ndarray | None = None
        self.batch_index = 0

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def _set_index_array(self) -> None:
        self.index_array = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def augment(self, xb: np.ndarray) -> np.ndarray:
        """A batch randomly transformed and standardized (what ``fit`` applies to each training batch)."""
        gen = self.image_data_generator
        return gen.standardize(gen._transform(np.asarray(xb, dtype=gen.dtype), self.rng))

    def _batch(self, index):
        xb = self.augment(self.x[index])
        return xb if self.y is None else (xb, self.y[index])

    def __getitem__(self, idx: int):
        if not 0 <= idx < len(self):
            raise NnplayError(f"asked for batch {idx} of a flow of {len(self)} batches")
        if self.index_array is None:
            self._set_index_array()
        return self._batch(self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)])

    def __iter__(self):
        return self

    def __next__(self):
        if self.index_array is None or self.batch_index == 0:
            self._set_index_array()
        start = (self.batch_index * self.batch_size) % max(self.n, 1)
        self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
        return self._batch(self.index_array[start:start + self.batch_size])

    # ------------------------------------------------------------------ what fit reads
    def training_data(self):
        """``(x, y, batch_size, shuffle, augment)``: how ``model.fit(flow)`` trains on it."""
        if self.y is None:
            raise NnplayError("fit needs targets: flow(x, y, batch_size=...)")
        return self.x, self.y, self.batch_size, self.shuffle, self.augment

    def validation_data(self):
        """``(x, y)`` for ``validation_data=flow``: the images standardized, not randomly transformed."""
        if self.y is None:
            raise NnplayError("validation_data needs targets: flow(x_val, y_val)")
        return self.image_data_generator.standardize(np.array(self.x)), self.y

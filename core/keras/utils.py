"""``keras.utils``: to_categorical, normalize, pad_sequences, set_random_seed and plot_model (as text)."""
from __future__ import annotations

from pathlib import Path

from nnplay.core.datasets.encoding import normalize, pad_sequences, to_categorical
from nnplay.core.fileio import atomic_write_text
from nnplay.core.models.summary import diagram_text
from nnplay.core.seeding import set_seed


def set_random_seed(seed: int) -> None:
    """Make weights, dropout and shuffling reproducible (models and layers created from now on)."""
    set_seed(int(seed))


def plot_model(model, to_file: str | None = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs) -> str:
    """Draw ``model`` as a text diagram: printed, and written next to ``to_file`` as a ``.txt`` (nnplay draws
    no images, so ``model.png`` becomes ``model.txt``). Returns the diagram."""
    if not model.built and model.input_shapes:
        model.build()
    text = diagram_text(model, show_shapes=show_shapes, show_layer_names=show_layer_names, show_dtype=show_dtype,
                        show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    print(text)
    if to_file:
        target = Path(to_file).with_suffix(".txt")
        atomic_write_text(target, text + "\n")
        print(f"plot_model: wrote the diagram as text to {target} (nnplay draws models as text, not images)")
    return text


__all__ = ["to_categorical", "normalize", "pad_sequences", "set_random_seed", "plot_model"]

"""The Keras code of the tutorials nnplay was made from (tests/seeds/, imports changed to nnplay.keras) runs
as written, building models with Keras 3.15's parameter counts; see tests/seeds/harness.py for the data
files, stand-ins and caps around each snippet."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "seeds"))
import harness  # noqa: E402

from nnplay.core.errors import NnplayError  # noqa: E402


def trainable_count(model) -> int:
    return int(sum(o.params[n].size for o, n in model.trainable_weights()))


@pytest.mark.parametrize("name", harness.names())
def test_seed_snippet_runs_with_only_its_imports_changed(name, tmp_path):
    if name == "16_rnn_plot_validation_split":
        # the seed never compiles this model: Keras 3 stops at fit, and so does nnplay, saying why
        with pytest.raises(NnplayError, match="compile"):
            harness.run(name, tmp_path)
        return
    ns = harness.run(name, tmp_path)
    for var, (total, trainable) in harness.EXPECTED_PARAMS[name].items():
        model = ns[var]
        assert model.count_params() == total, f"{var}: {model.count_params():,} parameters, Keras has {total:,}"
        assert trainable_count(model) == trainable, f"{var}: trainable parameters differ from Keras'"
    for history in ns["__histories__"]:
        assert history["loss"] and all(np.isfinite(v) for v in history["loss"])


def test_the_harness_covers_every_snippet_and_plot_model_writes_text(tmp_path):
    assert set(harness.names()) == set(harness.EXPECTED_PARAMS)
    harness.run("14_dense_plot_model", tmp_path)
    text = (tmp_path / "simple_neural_network.txt").read_text()
    assert "dense (Dense)" in text and "(None, 10) → (None, 64)" in text

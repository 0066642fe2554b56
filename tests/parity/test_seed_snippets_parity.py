"""The tutorial snippets (tests/seeds/) under real Keras 3.15 and under nnplay.keras: from the same initial
weights, without shuffling, the same losses within 1e-3 relative (1e-6 absolute, for the snippets whose
loss is a constant ~1e-7). Skipped where Keras is not installed."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="parity tests need Keras 3: pip install -e \".[parity]\"")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "seeds"))
import harness  # noqa: E402

#: Snippets that cannot be compared step by step, and why.
NOT_COMPARABLE = {
    "16_rnn_plot_validation_split": "the seed never compiles the model: both stop at fit (checked below)",
    "19_gan_mnist_dense": "Keras 3 refuses Adam(lr=...) and its torch backend refuses the noisy labels above 1",
    "17_cifar10_cnn": "Keras' CIFAR-10 loader only reads the full 50,000-image files (nnplay reads the small ones)",
    "18_cifar10_visualize_repeat": "Keras' CIFAR-10 loader only reads the full 50,000-image files",
    "06_image_data_generator": "Keras 3 has no keras.preprocessing.image.ImageDataGenerator (only tf.keras keeps it); "
                               "tests/parity/test_augmentation_parity.py compares its transforms with Keras' own",
    "07_vgg16_transfer": "Keras checks the MD5 of its real 58 MB weights file, so it refuses the test's stand-in and "
                         "downloads (tests/parity/test_applications_parity.py loads one stand-in in both instead)",
}
#: Dropout draws different masks in each framework: compare the loss before training instead.
RANDOM_IN_TRAINING = {"04_dropout", "13_lstm_dropout_recurrent_dropout"}


def _ensure_built(model, x):
    """Keras builds a model without an input shape at its first fit: build it first, to read its weights."""
    if not model.built:
        model(np.asarray((x[0] if isinstance(x, list) else x)[:1]))


def run_pair(name, tmp_path):
    """Run a snippet under Keras, recording each fit's initial weights; then under nnplay, starting each
    fit from those weights. Neither shuffles."""
    starts, used = [], []

    def keras_fit(model, x, kwargs):
        kwargs["shuffle"] = False
        _ensure_built(model, x)
        starts.append([w.copy() for w in model.get_weights()])

    def nnplay_fit(model, x, kwargs):
        kwargs["shuffle"] = False
        _ensure_built(model, x)
        model.set_weights(starts[len(used)])
        used.append(1)

    k_ns = harness.run(name, tmp_path / "keras", keras=True, on_fit=keras_fit)
    n_ns = harness.run(name, tmp_path / "nnplay", on_fit=nnplay_fit)
    return k_ns, n_ns


@pytest.mark.parametrize("name", [n for n in harness.names() if n not in NOT_COMPARABLE])
def test_snippet_losses_match_keras(name, tmp_path):
    k_ns, n_ns = run_pair(name, tmp_path)
    kh, nh = k_ns["__histories__"], n_ns["__histories__"]
    assert len(kh) == len(nh)
    for var, (total, _) in harness.EXPECTED_PARAMS[name].items():
        assert k_ns[var].count_params() == n_ns[var].count_params() == total
    for k_hist, n_hist in zip(kh, nh):
        keys = ["loss", "val_loss"] if "val_loss" in k_hist else ["loss"]
        if name in RANDOM_IN_TRAINING:
            keys = []
        for key in keys:
            np.testing.assert_allclose(n_hist[key], k_hist[key], rtol=1e-3, atol=1e-6, err_msg=f"{name} {key}")


def test_the_uncompiled_snippet_stops_at_fit_in_both(tmp_path):
    with pytest.raises(ValueError, match="compile"):
        harness.run("16_rnn_plot_validation_split", tmp_path / "keras", keras=True)
    with pytest.raises(ValueError, match="compile"):
        harness.run("16_rnn_plot_validation_split", tmp_path / "nnplay")

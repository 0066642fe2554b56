"""Autoencoders, VAEs and GANs: gradient checks of the new layers and paths, then learning tests.

The learning tests use small, seeded budgets; the GAN mode-coverage run is slow (NNPLAY_SLOW=1).
"""
import os
import threading
import time

import numpy as np
import pytest

from nnplay.core import Sequential
from nnplay.core.datasets import load
from nnplay.core.experiments.reports import render_images, render_pairs, render_points
from nnplay.core.models.autoencoder import (add_noise, anomaly_report, build_autoencoder, build_conv_autoencoder,
                                            decode, holdout_split, latent_codes, mean_image_baseline,
                                            per_sample_mse, reconstruction_errors, roc_auc)
from nnplay.core.models.gan import (GANBatchEnded, GANTrainer, build_gan, default_optimizer, metrics_for,
                                    nearest_class_metrics)
from nnplay.core.errors import NnplayError
from nnplay.core.gradcheck import check_layer, numeric_grad, rel_error
from nnplay.core.layers import Dense, GaussianDropout, GaussianNoise, Sampling, layer_from_config
from nnplay.core.optimizers import SGD
from nnplay.core.training import (BatchEnded, Diverged, EpochEnded, Finished, Paused, Resumed, Trainer,
                                  TrainingStarted)

TOL = 1e-6  # float64 central differences on smooth functions


# ------------------------------------------------------------------------------------------ helpers
def fixed_noise(cls):
    """The layer class, drawing the same noise in every forward (finite differences need a fixed eps)."""

    class Fixed(cls):
        def forward(self, x, training=False):
            self.reseed(1234)
            return super().forward(x, training)

    Fixed.__name__ = cls.__name__
    return Fixed


@pytest.fixture(scope="module")
def digits():
    return load("font-digits", size=16, n_samples=3000, seed=0)


# ------------------------------------------------------------------------------------------ gradient checks
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("batch", [1, 4])
def test_sampling_gradients_with_fixed_eps(training, batch):
    layer = fixed_noise(Sampling)(beta=0.0)  # the KL term is checked through the model below
    err = check_layer(layer, (6,), batch=batch, training=training, max_checks=None)
    assert max(err.values()) < TOL, err


def test_sampling_forward_is_mean_at_inference_and_reparameterised_in_training():
    layer = Sampling(seed=3)
    layer.build((4,), np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).standard_normal((5, 4))
    assert np.array_equal(layer.forward(x, False), x[:, :2])
    out = layer.forward(x, True)
    eps = layer.cache["eps"]
    assert np.allclose(out, x[:, :2] + np.exp(0.5 * x[:, 2:]) * eps)
    kl = -0.5 * np.sum(1 + x[:, 2:] - x[:, :2] ** 2 - np.exp(x[:, 2:]), axis=1).mean()
    assert layer.cache["aux_losses"]["kl_loss"] == pytest.approx(kl)


@pytest.mark.parametrize("cls,arg", [(GaussianNoise, 0.5), (GaussianDropout, 0.3)])
@pytest.mark.parametrize("training", [True, False])
def test_noise_layer_gradients(cls, arg, training):
    err = check_layer(fixed_noise(cls)(arg), (3, 2), batch=2, training=training, max_checks=None)
    assert max(err.values()) < TOL, err


def test_noise_layers_act_only_in_training():
    x = np.ones((64, 8), np.float32)
    for layer in (GaussianNoise(0.5, seed=0), GaussianDropout(0.3, seed=0)):
        layer.build((8,), np.random.default_rng(0), np.float32)
        assert layer.forward(x, False) is x
        noisy = layer.forward(x, True)
        assert noisy.dtype == np.float32 and 0.2 < noisy.std() < 1.0
    g = GaussianNoise(0.5, seed=7)
    g.build((8,), np.random.default_rng(0))
    a = g.forward(x, True)
    g2 = GaussianNoise(0.5, seed=7)
    g2.build((8,), np.random.default_rng(99))
    assert np.array_equal(a, g2.forward(x, True))  # the layer seed alone fixes the noise


def _vae(beta, seed=0):
    model = Sequential([Dense(5, activation="tanh", input_shape=(3,)), Dense(4, name="latent_params"),
                        fixed_noise(Sampling)(beta=beta, name="bottleneck"), Dense(3, activation="sigmoid")],
                       seed=seed, dtype="float64")
    model.compile(optimizer=SGD(learning_rate=1.0), loss="mse")
    return model


def test_kl_term_gradient_through_the_models_aux_loss_path():
    model = _vae(beta=0.7)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.random((6, 3))

    def total_loss():
        out = model.forward(x, True)
        return model.loss.value(y, out) + sum(model.aux_losses().values())

    P0 = model.P.copy()
    expected = total_loss()
    loss, _ = model.train_step(x, y)
    assert loss == pytest.approx(expected, rel=1e-12)  # the step's loss includes the KL term
    assert model.last_losses["kl_loss"] > 0
    assert model.last_losses["reconstruction_loss"] + model.last_losses["kl_loss"] == pytest.approx(loss)
    analytic = model.G.copy()
    model.P[...] = P0
    idx, num = numeric_grad(total_loss, model.P)
    assert rel_error(analytic[idx], num) < TOL
    # and the KL gradient is really in there: without it the check fails
    no_kl = _vae(beta=0.0)
    no_kl.P[...] = P0
    no_kl.train_step(x, y)
    assert rel_error(no_kl.G, num) > 1e-3


def _tiny_gan(seed=0):
    g = Sequential([Dense(6, activation="tanh", input_shape=(3,)), Dense(2)], seed=seed, dtype="float64")
    d = Sequential([Dense(5, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
                   seed=seed + 1, dtype="float64")
    return g, d


def test_combined_generator_step_freezes_d_and_matches_finite_differences():
    g, d = _tiny_gan()
    d_before_compile = d.get_weights()
    combined = build_gan(g, d, d_optimizer=SGD(learning_rate=0.1), g_optimizer=SGD(learning_rate=1.0))
    # compiling the combined model neither re-initialises D nor detaches it from its own buffer
    assert all(np.array_equal(a, b) for a, b in zip(d_before_compile, d.get_weights()))
    # Keras 3: the combined model holds G's and D's weights; which ones a step moves is read at the step
    assert d.trainable and {id(o) for o, _ in combined._slots} == {id(o) for o, _ in combined.param_weights()}
    rng = np.random.default_rng(0)
    # a discriminator step first: alternation must not leave stale state behind
    x = np.concatenate([rng.standard_normal((4, 2)), g.forward(rng.standard_normal((4, 3)), True)])
    d.train_step(x, np.r_[np.full((4, 1), 0.9), np.zeros((4, 1))])
    z, ones = rng.standard_normal((5, 3)), np.ones((5, 1))

    def g_loss():
        return combined.loss.value(ones, combined.forward(z, True))

    d.trainable = False
    combined._ensure_bound()        # D's weights come back into the combined buffer before its step
    d_weights, P0 = d.get_weights(), combined.P.copy()
    loss, _ = combined.train_step(z, ones)
    assert all(np.array_equal(a, b) for a, b in zip(d_weights, d.get_weights())), "a generator step moved D"
    assert not np.array_equal(P0, combined.P), "a generator step did not move G"
    analytic = combined.G.copy()
    combined.P[...] = P0
    assert g_loss() == pytest.approx(loss, rel=1e-10)
    idx, num = numeric_grad(g_loss, combined.P)
    assert rel_error(analytic[idx], num) < TOL
    # frozen, D's own step moves nothing (Keras 3: the tutorials' "freeze once" leaves D untrained) ...
    g_weights = g.get_weights()
    d.train_step(x, np.r_[np.ones((4, 1)), np.zeros((4, 1))])
    assert all(np.array_equal(a, b) for a, b in zip(d_weights, d.get_weights()))
    # ... unfrozen, D learns on its own again, and only D moves
    d.trainable = True
    d.train_step(x, np.r_[np.ones((4, 1)), np.zeros((4, 1))])
    assert not all(np.array_equal(a, b) for a, b in zip(d_weights, d.get_weights()))
    assert all(np.array_equal(a, b) for a, b in zip(g_weights, g.get_weights()))
    # and the combined model, D unfrozen, moves both players
    d_weights, g_weights = d.get_weights(), g.get_weights()
    combined.train_step(z, ones)
    assert not all(np.array_equal(a, b) for a, b in zip(d_weights, d.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(g_weights, g.get_weights()))


# ------------------------------------------------------------------------------------------ model API
def test_get_layer_and_predict_until(digits):
    model = build_autoencoder((16, 16, 1), hidden=(32,), latent_dim=4, seed=0)
    model.build()
    assert model.get_layer("bottleneck").units == 4 and model.get_layer(index=0).name == "flatten"
    with pytest.raises(NnplayError, match="bottleneck"):
        model.get_layer("botleneck")
    codes = model.predict_until(digits.x_test[:7], "bottleneck", batch_size=3)
    assert codes.shape == (7, 4)
    assert np.allclose(decode(model, codes), model.predict(digits.x_test[:7]), atol=1e-6)
    # nested: a layer inside a sub-model, and a sub-model itself
    g, d = _tiny_gan()
    combined = build_gan(g, d)
    z = np.random.default_rng(0).standard_normal((3, 3))
    assert np.allclose(combined.predict_until(z, "generator"), g.predict(z))
    assert np.allclose(combined.predict_until(z, "discriminator"), d.predict(g.predict(z)))
    d.layers[0].name = "critic_in"
    assert np.allclose(combined.predict_until(z, "critic_in"), d.layers[0].forward(g.predict(z), False))


def test_vae_latent_is_the_mean_and_the_trainer_logs_kl_separately(digits):
    x = digits.x_train[:512]
    model = build_autoencoder((16, 16, 1), hidden=(32,), latent_dim=2, variational=True, beta=0.01, seed=0)
    model.compile(optimizer="adam", loss="mse")
    events = list(Trainer(model, x, x, epochs=2, batch_size=64, validation_split=0.25).run())
    logs = [e.logs for e in events if isinstance(e, EpochEnded)]
    for lg in logs:
        assert {"loss", "kl_loss", "reconstruction_loss", "val_loss", "val_kl_loss",
                "val_reconstruction_loss"} <= set(lg)
        assert lg["loss"] == pytest.approx(lg["reconstruction_loss"] + lg["kl_loss"], rel=1e-6)
        assert lg["kl_loss"] > 0
    params = model.predict_until(x[:5], "latent_params")
    assert np.allclose(latent_codes(model, x[:5]), params[:, :2])
    # a VAE decodes prior samples into images
    samples = decode(model, np.random.default_rng(0).standard_normal((4, 2)))
    assert samples.shape == (4, 16, 16, 1) and np.all((samples >= 0) & (samples <= 1))


def test_layer_configs_round_trip():
    for cfg in ({"type": "sampling", "beta": 0.5, "name": "bottleneck"}, {"type": "gaussian_noise", "stddev": 0.2},
                {"type": "gaussian_dropout", "rate": 0.1, "seed": 3}):
        layer = layer_from_config(cfg)
        again = layer_from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
    with pytest.raises(NnplayError, match="stddev"):
        GaussianNoise(-1)
    with pytest.raises(NnplayError, match="rate"):
        GaussianDropout(1.0)
    with pytest.raises(NnplayError, match="even"):
        Sequential([Dense(3, input_shape=(2,)), Sampling()]).build()


def test_model_with_noise_layer_saves_and_loads(tmp_path):
    model = build_autoencoder((6,), hidden=(4,), latent_dim=2, noise_stddev=0.1, variational=True, seed=0)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((8, 6)).astype(np.float32)
    model.train_on_batch(x, x)
    from nnplay.core import load_model
    again = load_model(model.save(tmp_path / "vae"))
    assert np.allclose(again.predict(x), model.predict(x))


# ------------------------------------------------------------------------------------------ autoencoders learn
def test_autoencoder_beats_the_mean_image(digits):
    model = build_autoencoder((16, 16, 1), hidden=(128,), latent_dim=32, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(digits.x_train, digits.x_train, epochs=8, batch_size=64, verbose=0)
    err = reconstruction_errors(model, digits.x_test).mean()
    baseline = mean_image_baseline(digits.x_train, digits.x_test)
    print(f"autoencoder test MSE {err:.4f} vs mean-image baseline {baseline:.4f} ({err / baseline:.0%})")
    assert err < 0.5 * baseline
    text = render_pairs(digits.x_test[:4], model.predict(digits.x_test[:4]), cols=4)
    assert len(text.splitlines()) == 2 * (1 + 8)  # a title and 16 / 2 rows, for each set


def test_denoising_autoencoder_beats_identity(digits):
    model = build_autoencoder((16, 16, 1), hidden=(128,), latent_dim=32, noise_stddev=0.3, seed=0)
    assert isinstance(model.layers[0], GaussianNoise)
    model.compile(optimizer="adam", loss="mse")
    model.fit(digits.x_train, digits.x_train, epochs=6, batch_size=64, verbose=0)
    clean = digits.x_test
    noisy = add_noise(clean, 0.3, seed=1)
    denoised = per_sample_mse(model.predict(noisy), clean).mean()
    identity = per_sample_mse(noisy, clean).mean()
    print(f"denoising: MSE(model(noisy), clean) {denoised:.4f} vs MSE(noisy, clean) {identity:.4f}")
    assert denoised < 0.8 * identity


def test_sparse_autoencoder_has_sparser_codes(digits):
    x = digits.x_train[:1500]
    mean_code = {}
    for l1 in (0.0, 1e-3):
        model = build_autoencoder((16, 16, 1), hidden=(64,), latent_dim=32, sparsity_l1=l1, seed=0)
        model.compile(optimizer="adam", loss="mse")
        hist = model.fit(x, x, epochs=3, batch_size=64, verbose=0)
        mean_code[l1] = np.abs(latent_codes(model, digits.x_test)).mean()
        assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert mean_code[1e-3] < 0.5 * mean_code[0.0]


def test_anomaly_report_separates_a_held_out_digit(digits):
    x_train, x_normal, x_anomalous = holdout_split(digits, held_out=4)
    assert len(x_anomalous) == (digits.y_test == 4).sum() and len(x_normal) == (digits.y_test != 4).sum()
    model = build_autoencoder((16, 16, 1), hidden=(64,), latent_dim=8, seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x_train, x_train, epochs=6, batch_size=64, verbose=0)
    report = anomaly_report(model, x_normal, x_anomalous, percentile=95, x_train=x_train)
    print("anomaly detection (digit 4 held out):", report.describe())
    assert report.auc > 0.8 and report.anomalous_mean_error > report.normal_mean_error
    assert 0.0 < report.false_positive_rate < 0.15 and report.recall > 0.3
    assert set(report.as_dict()) >= {"threshold", "auc", "precision", "recall"}


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    neg, pos = rng.integers(0, 5, 40).astype(float), rng.integers(2, 8, 30).astype(float)
    pairs = (pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean()
    assert roc_auc(neg, pos) == pytest.approx(pairs)
    assert roc_auc([0, 1], [2, 3]) == 1.0 and roc_auc([2, 3], [0, 1]) == 0.0


def test_conv_autoencoder_builds_when_conv_layers_exist():
    try:
        model = build_conv_autoencoder((16, 16, 1), filters=(8, 4))
        model.build()
    except NnplayError as exc:
        pytest.skip(f"convolution layers not available yet: {exc}")
    assert model.output_shape == (16, 16, 1)
    assert model.get_layer("bottleneck").output_shape == (4, 4, 4)


# ------------------------------------------------------------------------------------------ GAN trainer
def _ring_gan(seed=0, units=32, latent=4):
    g = Sequential([Dense(units, activation="relu", input_shape=(latent,)), Dense(units, activation="relu"),
                    Dense(2)], seed=seed)
    d = Sequential([Dense(units, activation="relu", input_shape=(2,)), Dense(units, activation="relu"),
                    Dense(1, activation="sigmoid")], seed=seed + 1)
    return g, d


def test_gan_trainer_events_logs_and_requests():
    ds = load("ring8", n_samples=640, seed=0)
    g, d = _ring_gan()
    t = GANTrainer(g, d, ds.x_train, epochs=3, batch_size=64, k=2, sample_metrics=metrics_for(ds), n_eval=200)
    assert t.steps == len(ds.x_train) // (64 * 2)
    gen = t.run()
    assert isinstance(next(gen), TrainingStarted)
    t.pause()
    assert isinstance(next(gen), Paused)
    threading.Timer(0.05, t.step).start()
    assert isinstance(next(gen), Resumed)
    ev = next(gen)
    assert isinstance(ev, GANBatchEnded) and isinstance(ev, BatchEnded) and ev.batch == 0
    assert 0 <= ev.d_real <= 1 and 0 <= ev.d_fake <= 1 and np.isfinite(ev.g_loss) and ev.loss == ev.g_loss
    assert isinstance(next(gen), Paused)
    t.set_learning_rate(1e-3)
    threading.Timer(0.05, t.resume).start()
    rest = list(gen)
    assert isinstance(rest[0], Resumed)
    assert d.optimizer.current_learning_rate() == pytest.approx(1e-3)
    assert t.combined.optimizer.current_learning_rate() == pytest.approx(1e-3)
    epochs = [e for e in rest if isinstance(e, EpochEnded)]
    assert len(epochs) == 3 and isinstance(rest[-1], Finished) and rest[-1].reason == "completed"
    assert {"d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "high_quality"} <= set(epochs[-1].logs)
    assert t.history.history["modes_covered"] and t.generate(5).shape == (5, 2)


def test_gan_trainer_continues_the_same_players_for_more_epochs():
    ds = load("ring8", n_samples=320, seed=0)
    g, d = _ring_gan()
    t = GANTrainer(g, d, ds.x_train, epochs=2, batch_size=64, n_eval=50)
    first = list(t.run())
    assert [e.epoch for e in first if isinstance(e, EpochEnded)] == [0, 1]
    weights, z = t.combined.P.copy(), t.eval_z.copy()
    t.continue_run(2, 3)
    gen = t.run()
    started = next(gen)
    assert isinstance(started, TrainingStarted) and started.initial_epoch == 2 and started.epochs == 3
    assert np.array_equal(t.combined.P, weights)        # nothing was re-initialised
    rest = list(gen)
    assert [e.epoch for e in rest if isinstance(e, EpochEnded)] == [2]
    assert rest[-1].reason == "completed" and rest[-1].epochs_run == 3 and len(t.history.history["d_loss"]) == 3
    assert np.array_equal(t.eval_z, z) and not np.array_equal(t.combined.P, weights)
    with pytest.raises(NnplayError, match="initial_epoch"):
        t.continue_run(4, 3)


def test_gan_trainer_stop_and_divergence_restores_weights():
    ds = load("ring8", n_samples=640, seed=0)
    g, d = _ring_gan()
    t = GANTrainer(g, d, ds.x_train, epochs=5, batch_size=64)
    gen = t.run()
    next(gen)
    next(gen)
    t.stop()
    assert [type(e) for e in gen][-1] is Finished
    g, d = _ring_gan()
    t = GANTrainer(g, d, ds.x_train, epochs=2, batch_size=64)
    gen = t.run()
    next(gen)
    start = t.combined.P.copy()
    assert isinstance(next(gen), BatchEnded)

    def blow_up(n):  # a generator step whose update went to NaN
        t.combined.P[...] = np.nan
        return float("nan"), 0.5

    t.g_step = blow_up
    events = list(gen)
    assert any(isinstance(e, Diverged) for e in events) and events[-1].reason == "diverged"
    assert "generator loss" in events[-1].message
    assert np.array_equal(t.combined.P, start) and np.isfinite(d.P).all()  # back to the epoch's start


def test_gan_validates_its_inputs():
    g, d = _ring_gan()
    with pytest.raises(NnplayError, match="k"):
        GANTrainer(g, d, np.zeros((10, 2)), k=0)
    g2 = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(NnplayError, match="shape"):
        build_gan(g2, Sequential([Dense(1, activation="sigmoid", input_shape=(2,))]))


def test_sample_metrics_see_mode_collapse():
    ds = load("ring8", seed=0)
    metrics = metrics_for(ds)
    real = metrics(ds.x_test)
    assert real["modes_covered"] == 8 and real["high_quality"] > 0.95
    centre = np.asarray(ds.meta["modes"][0])
    collapsed = centre + np.random.default_rng(0).normal(0, 0.05, (500, 2))
    assert metrics(collapsed)["modes_covered"] == 1
    assert metrics(np.zeros((100, 2)))["high_quality"] == 0.0
    roll = load("swissroll2d", seed=0)
    m = metrics_for(roll)(roll.x_test)
    assert m["segments_covered"] >= 18 and m["high_quality"] > 0.95
    text = render_points(collapsed, width=40, height=12, marks=ds.meta["modes"])
    assert text.count("o") == 7 and len(text.splitlines()) == 14


def test_nearest_class_metrics_on_real_and_collapsed_images(digits):
    metrics = nearest_class_metrics(digits.x_train[:1000], digits.y_train[:1000], 10, digits.x_test[:300])
    real = metrics(digits.x_test[300:800])
    assert real["classes_covered"] == 10 and real["high_quality"] > 0.8
    ones = digits.x_test[digits.y_test == 1][:50]
    assert metrics(ones)["classes_covered"] <= 2
    assert metrics(np.full((50, 16, 16, 1), 0.5, np.float32))["high_quality"] == 0.0
    assert len(render_images(ones[:3], cols=3).splitlines()) == 8


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NNPLAY_SLOW") != "1", reason="slow: set NNPLAY_SLOW=1")
def test_gan_covers_the_ring():
    ds = load("ring8", seed=0)
    g, d = _ring_gan(units=64, latent=8)
    t = GANTrainer(g, d, ds.x_train, epochs=80, batch_size=32, k=1, label_smoothing=0.1,
                   d_optimizer=default_optimizer(1e-3), g_optimizer=default_optimizer(1e-3),
                   sample_metrics=metrics_for(ds), seed=0)
    t0 = time.perf_counter()
    last = list(t.run())[-1]
    seconds = time.perf_counter() - t0
    print(f"ring8 GAN: {last.logs} after {last.epochs_run} epochs ({t.steps} steps each) in {seconds:.0f} s")
    print(render_points(t.generate(), marks=ds.meta["modes"]))
    assert last.logs["modes_covered"] >= 6


# ------------------------------------------------------------------------------------------ presets
# Every shipped preset also trains in test_presets.py; here the generative extras are checked on small data.
GENERATIVE_PRESETS = ("autoencoder", "denoising-autoencoder", "vae", "anomaly-detection", "gan-ring", "gan-digits")


@pytest.mark.parametrize("ref", GENERATIVE_PRESETS)
def test_generative_presets_build_train_report_and_render(ref, tmp_path):
    from nnplay.core import load_model
    from nnplay.core.experiments import build_experiment
    from nnplay.core.presets import apply_overrides, load_preset, parse_preset

    p = load_preset(ref)
    assert parse_preset(p.to_toml(), source="again.toml") == p
    small = {"data.n_samples": 1000} if p.data.name == "font-digits" else {}
    exp = build_experiment(apply_overrides(p, {"training.epochs": 1, **small}))
    trainer = exp.trainer()
    events = list(trainer.run())
    assert events[-1].reason == "completed"
    metrics = exp.evaluate(trainer)
    assert exp.target.metric in metrics and np.isfinite(metrics[exp.target.metric])
    text = exp.render()
    assert text.strip() and "\x1b" not in text and any(c in text for c in "-=+*#%@")
    if p.gan is not None:
        assert isinstance(trainer, GANTrainer) and exp.model is trainer.generator
        assert {"train_d_loss", "train_g_loss", "train_d_real", "train_d_fake", "test_high_quality"} <= set(metrics)
    else:
        assert metrics["test_loss"] == pytest.approx(metrics["test_reconstruction_mse"] +
                                                     metrics.get("test_kl_loss", 0.0), rel=1e-5)
        assert "originals" in text and "reconstructions" in text
        if p.anomaly:
            assert 0.0 <= metrics["test_anomaly_auc"] <= 1.0 and "ROC AUC" in text
            assert exp.dataset.meta["x_anomalous"].shape[1:] == exp.dataset.x_train.shape[1:]
    exp.model.save(tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").count_params() == exp.model.count_params()


def test_preset_schema_errors_for_generative_tables():
    from nnplay.core.presets import parse_preset

    base = """name = "x"
[data]
name = "ring8"
[[model.layers]]
type = "dense"
units = 2
[training]
loss = "binary_crossentropy"
epochs = 1
"""
    gan = '[gan]\nlatent_dim = 4\n[[gan.discriminator]]\ntype = "dense"\nunits = 1\nactivation = "sigmoid"\n'
    p = parse_preset(base + gan)
    assert p.gan["latent_dim"] == 4
    with pytest.raises(NnplayError, match="latnet_dim.*latent_dim"):
        parse_preset(base + gan.replace("latent_dim", "latnet_dim"))
    with pytest.raises(NnplayError, match=r"gan.discriminator\[0\].*unit"):
        parse_preset(base + gan.replace("units = 1", "unit = 1"))
    with pytest.raises(NnplayError, match="test_modes_covered"):
        parse_preset(base + gan + '[target]\nmetric = "test_mode_covered"\nmin = 6\n')
    with pytest.raises(NnplayError, match="data.target"):
        parse_preset(base.replace('name = "ring8"', 'name = "ring8"\ntarget = "inputs"'))
    with pytest.raises(NnplayError, match="anomaly"):
        parse_preset(base + "[anomaly]\nheld_out_class = 1\n")

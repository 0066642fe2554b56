"""GANs and autoencoders in the playground: open, step, run, change the learning rate, continue and reset a
GAN; its samples (over the real data in the plane, or as images) in the output view and both players'
numbers in the curves; an autoencoder's reconstructions next to its latent space, coloured by class."""
from __future__ import annotations

import io

from rich.console import Console
from tui_helpers import parked, wait_for

from nnplay.tui import render, session
from nnplay.tui.app import NnplayApp
from nnplay.tui.widgets.model_view import ModelView
from nnplay.tui.widgets.plots import CurvePlot
from nnplay.tui.widgets.status import StatusLine


def gan_ring(epochs: int = 2) -> dict:
    """gan-ring on 800 points: an epoch is 20 batches, a few epochs run in well under a second."""
    setup = session.load_setup("gan-ring")
    setup["data"]["n_samples"] = 800
    setup["training"]["epochs"] = epochs
    return setup


def gan_digits() -> dict:
    setup = session.load_setup("gan-digits")
    setup["data"]["n_samples"] = 600
    setup["training"]["epochs"] = 1
    return setup


def output_text(app, width: int = 100) -> str:
    """The output view's text as the learner reads it (colours dropped)."""
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True, legacy_windows=False)
    console.print(app._output_note())
    return console.export_text()


def finished(app) -> bool:
    return app.run_state.status == "finished" and app.loop.parked


async def test_gan_ring_steps_runs_continues_and_resets():
    app = NnplayApp(gan_ring(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        assert app.run_state.status == "ready" and app.check.error is None
        assert [c.output_shape for c in app.check.layers] == [(64,), (64,), (2,)]   # noise (8,) in
        await pilot.press("n")                                  # one batch of each player, then pause
        await wait_for(pilot, lambda: app.run_state.iteration == 1 and app.loop.parked)
        assert app.run_state.status == "paused"
        lr = app.run_state.learning_rate
        await pilot.press("plus")                               # live, for both players
        await pilot.press("n")
        await wait_for(pilot, lambda: app.run_state.iteration == 2 and app.loop.parked)
        gan = app.experiment.gan
        assert app.run_state.learning_rate == lr * 2
        assert gan.combined.optimizer.current_learning_rate() == lr * 2
        assert gan.discriminator.optimizer.current_learning_rate() == lr * 2
        await pilot.press("space")
        await wait_for(pilot, lambda: finished(app))
        assert app.run_state.epoch == 2
        text = output_text(app)
        assert "1000 generated samples (fixed noise z) over the real data" in text
        assert "modes covered" in text and "▀" in text
        assert "D loss" in str(app.screen.query_one(StatusLine).render())
        await pilot.press("2")
        hist = app.run_state.history
        assert len(hist["d_loss"]) == 2 and len(hist["g_loss"]) == 2 and len(hist["d_real"]) == 2
        plots = app.screen.query(CurvePlot)
        assert "d_loss" in plots[0].title and "g_loss" in plots[0].title
        assert "D(real)" in plots[1].title and "modes covered" in plots[1].title
        await pilot.press("space", "enter")                     # another round with the same players
        await wait_for(pilot, lambda: finished(app) and app.run_state.epoch == 4)
        assert app.experiment.gan is gan and len(app.run_state.history["g_loss"]) == 4
        await pilot.press("4")
        await wait_for(pilot, lambda: app.visuals is not None and app.visuals.d_norms)
        assert "Discriminator" in output_of(app.screen.query_one(ModelView))
        await pilot.press("r")                                  # fresh players, same setup
        await wait_for(pilot, lambda: parked(app) and app.run_state.status == "ready")
        assert app.run_state.epoch == 0 and app.experiment.gan is not gan


def output_of(widget, width: int = 120) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(widget.render())
    return console.export_text()


async def test_gan_ring_reports_modes_covered_and_reads_without_colour():
    app = NnplayApp(gan_ring(epochs=3), test_mode=True, no_color=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("space")
        await wait_for(pilot, lambda: finished(app))
        await wait_for(pilot, lambda: app.visuals.gan is not None and app.visuals.gan.metrics)
        g = app.visuals.gan
        covered = g.metrics["modes_covered"]
        # the same fixed noise and the same metric as the epoch log: the numbers agree
        assert covered == app.run_state.history["modes_covered"][-1]
        text = output_text(app, width=80)
        assert f"modes covered {covered}/8" in text
        assert "oo" in text and ".." in text and ". real data  o generated" in text


async def test_gan_samples_use_a_fixed_noise_batch():
    app = NnplayApp(gan_ring(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        first = app.visuals.gan.points
        app.request_visuals()                                   # redrawn without training: the same samples
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: parked(app))
        assert (app.visuals.gan.points == first).all()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.run_state.iteration == 1 and app.loop.parked)
        await wait_for(pilot, lambda: app.visuals.gan.points is not first)
        moved = app.visuals.gan.points
        assert moved.shape == first.shape and not (moved == first).all()


async def test_gan_digits_shows_a_grid_of_generated_images():
    app = NnplayApp(gan_digits(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        assert app.run_state.status == "ready" and app.check.error is None
        await pilot.press("space")
        await wait_for(pilot, lambda: finished(app))
        g = app.visuals.gan
        assert g.points is None and len(g.images) == 16 and g.images[0].shape == (16, 16)
        text = output_text(app, width=80)
        assert "generated samples (fixed noise z" in text and "classes covered" in text
        rows = [line for line in text.splitlines() if line.count("▀") >= 16 * 4]
        assert len(rows) >= 16                                  # two rows of four 16x16 images
        await pilot.press("5")                                  # no classifier: a clear word, not a hang
        assert "A GAN has no right answers" in output_of(app.screen.query_one("#errors-view"))
        await pilot.press("3")
        await wait_for(pilot, lambda: app.visuals.inside is not None)
        assert "noise vector" in app.visuals.inside.note


async def test_autoencoder_output_shows_reconstructions_and_the_latent_space():
    app = NnplayApp(session.load_setup("vae"), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        lat = app.visuals.latent
        assert lat is not None and lat.dims == 2 and lat.points.shape[1] == 2
        assert set(lat.labels.tolist()) == set(range(10))
        text = output_text(app, width=80)
        assert "originals" in text and "reconstructions" in text
        assert text.index("originals") < text.index("reconstructions")
        assert "Latent space: the 2-D bottleneck" in text and len(lat.labels) == 600
        assert all(f"■{k}" in text for k in range(10))           # one colour per class, named


async def test_latent_space_of_a_wide_bottleneck_is_a_pca_projection_without_colour():
    app = NnplayApp(session.load_setup("anomaly-detection"), test_mode=True, no_color=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        lat = app.visuals.latent
        assert lat.dims == 8 and lat.held_out == 4 and 0 < lat.explained <= 1
        text = output_text(app, width=80)
        assert "8-number bottleneck codes" in text and "PCA" in text
        assert "held-out 4s: ROC AUC" in text
        picture = "\n".join(text.splitlines()[3:])
        assert sum(ch in picture for ch in "0123456789") >= 8      # classes drawn as their own digits
        assert not any(isinstance(r, render.HalfBlocks) for r in _walk(app._output_note()))


def _walk(renderable):
    yield renderable
    for child in getattr(renderable, "renderables", ()) or ():
        yield from _walk(child)
    for col in getattr(renderable, "columns", ()) or ():
        for cell in col._cells:
            yield from _walk(cell)


async def test_a_gan_keeps_its_generator_when_the_data_changes():
    app = NnplayApp(gan_ring(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        layers = [dict(c) for c in app.setup["model"]["layers"]]
        app.change_setting("data.name", "spiral")              # other 2-D data: the same generator fits
        await wait_for(pilot, lambda: parked(app) and app.run_state.status in ("ready", "error"))
        assert app.run_state.status == "ready", app.run_state.message
        assert app.setup["model"]["layers"] == layers and app.experiment.dataset.name == "spiral"
        assert "sample metrics: none for this dataset" in output_text(app)

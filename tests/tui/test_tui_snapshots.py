"""Snapshots of the main screens at 80x24 and 120x40, seeded, with timing text hidden (test mode).

Update the baselines after a deliberate change with ``pytest tests/tui --snapshot-update`` and look at the
SVGs in ``tests/tui/__snapshots__/``.
"""
from __future__ import annotations

import pytest
from tui_helpers import parked, regression_setup, settled, small_setup, wait_for

from nnplay.tui import session
from nnplay.tui.app import NnplayApp
from nnplay.tui.messages import StackChanged


def _ready(app, *keys, until=None):
    """run_before: wait until built and parked, press ``keys`` (waiting for the trainer after each)."""
    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: parked(app))
        for key in keys:
            await pilot.press(key)
            await wait_for(pilot, lambda: app.loop is not None and app.loop.parked
                           and app.run_state.status not in ("running", "building"))
        if until is not None:
            await wait_for(pilot, lambda: until(app))
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: settled(app))
        await pilot.pause(0.1)
    return run_before


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_playground_ready(snap_compare, size):
    app = NnplayApp(test_mode=True)
    assert snap_compare(app, terminal_size=size, run_before=_ready(app))


def test_setup_tab_at_80x24(snap_compare):
    app = NnplayApp(test_mode=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready(app, "0"))


@pytest.mark.parametrize("view", ["1", "2", "4", "5"])
def test_views_after_training(snap_compare, view):
    app = NnplayApp(small_setup(epochs=5), test_mode=True)
    done = lambda a: a.run_state.status == "finished" and a.loop.parked  # noqa: E731
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "space", view, until=done))


def test_impossible_stack_is_shown_in_place(snap_compare):
    app = NnplayApp(test_mode=True)
    setup = app.setup

    async def run_before(pilot) -> None:
        await _ready(app)(pilot)
        layers = [*setup["model"]["layers"][:1], {"type": "lstm", "units": 16}, *setup["model"]["layers"][1:]]
        app.post_message(StackChanged(layers, 1))
        await wait_for(pilot, lambda: app.run_state.status == "error")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_divergence_message(snap_compare):
    setup = regression_setup()
    setup["training"]["optimizer"]["learning_rate"] = 1.28
    app = NnplayApp(setup, test_mode=True)
    diverged = lambda a: a.run_state.status == "diverged" and a.loop.parked  # noqa: E731
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "space", until=diverged))


def test_help_screen(snap_compare):
    app = NnplayApp(test_mode=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "question_mark"))


def test_no_color_shade_ramp(snap_compare):
    app = NnplayApp(test_mode=True, no_color=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready(app))


def test_conv_feature_maps(snap_compare):
    setup = session.load_setup("cnn-shapes")
    app = NnplayApp(setup, test_mode=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "n", "n", "3"))


def test_gan_ring_samples_over_the_real_data(snap_compare):
    setup = session.load_setup("gan-ring")
    setup["data"]["n_samples"] = 800
    setup["training"]["epochs"] = 3           # 60 steps: short, so no rounding difference can grow into another picture
    app = NnplayApp(setup, test_mode=True)
    done = lambda a: a.run_state.status == "finished" and a.loop.parked  # noqa: E731
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready(app, "space", until=done))


def test_autoencoder_latent_space(snap_compare):
    setup = session.load_setup("vae")
    setup["data"]["n_samples"] = 1000
    setup["training"]["epochs"] = 2
    app = NnplayApp(setup, test_mode=True)
    done = lambda a: a.run_state.status == "finished" and a.loop.parked  # noqa: E731
    assert snap_compare(app, terminal_size=(120, 40), run_before=_ready(app, "space", until=done))


def test_compare_variants_side_by_side(snap_compare):
    from nnplay.tui.screens.compare import CompareScreen
    setup = session.load_setup("optimizers")
    setup["training"]["epochs"] = 6
    app = NnplayApp(setup, test_mode=True)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.done, timeout=60)
        await pilot.pause(0.3)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)

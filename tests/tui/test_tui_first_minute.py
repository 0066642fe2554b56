"""What a new user hit in the first minute, each pinned by a test that failed before its fix."""
from __future__ import annotations

from tui_helpers import parked, small_setup, wait_for
from textual.widgets import Footer

from nnplay.tui.app import NnplayApp
from nnplay.tui.widgets.layer_stack import LayerStack


def _app(setup=None, **kw) -> NnplayApp:
    return NnplayApp(setup if setup is not None else small_setup(), test_mode=True, **kw)


def _footer_keys(app) -> set[str]:
    return {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}


async def test_setup_keys_do_nothing_while_the_setup_is_hidden_at_80x24():
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("0")                          # the setup tab: its fields take the focus
        stack = app.screen.query_one(LayerStack)
        stack.focus()
        await pilot.pause(0.05)
        assert "x" in _footer_keys(app)
        await pilot.press("2")                          # the curves: the setup is hidden now
        await pilot.pause(0.05)
        assert not app.screen.focused or not app.screen.focused.has_class("panel")
        assert "x" not in _footer_keys(app) and "a" not in _footer_keys(app)
        await pilot.press("x")
        await pilot.pause(0.1)
        assert len(app.setup["model"]["layers"]) == 3   # nothing deleted, nothing reset
        assert app.screen.query_one(Footer)


def _text(widget) -> str:
    from rich.console import Console
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    content = widget.content if hasattr(widget, "content") else widget.render()
    console.print(content)
    return console.export_text()


async def test_switching_to_a_sequence_set_and_back_leaves_no_stale_panel():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        note = app.screen.query_one("#output-note")
        app.change_setting("data.name", "adding")
        await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "adding")
        assert "adding" in _text(note)
        app.change_setting("data.name", "spiral")
        await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "spiral")
        assert "adding" not in _text(note) and "discretize" in _text(note)


async def test_the_inside_view_names_the_keys_that_change_the_sample():
    from nnplay.tui.widgets.inside import InsideView
    setup = small_setup()
    setup["data"] = {"name": "font-digits", "size": 12}
    setup["model"]["layers"] = [{"type": "conv2d", "filters": 2, "kernel_size": 3, "activation": "relu"},
                                {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
    setup["training"].update(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    app = _app(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("3")
        await wait_for(pilot, lambda: app.visuals is not None and app.visuals.inside is not None)
        await pilot.pause(0.1)
        text = _text(app.screen.query_one(InsideView))
        assert "< > sample" in text and "[ ] sample" not in text
        before = app.options.sample
        await pilot.press("greater_than_sign")
        assert app.options.sample == before + 1


async def test_an_output_layer_that_does_not_fit_the_targets_is_flagged_in_the_network_panel():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        stack = app.screen.query_one(LayerStack)
        stack.focus()
        await pilot.press("down", "down")                     # the output layer: dense 1 sigmoid
        await pilot.press(*["right"] * 7)                     # ... becomes dense 8
        await wait_for(pilot, lambda: app.setup["model"]["layers"][-1]["units"] == 8 and app.check.error)
        error = app.check.error
        assert "each target has shape () (one number)" in error and "has shape (8,)" in error
        assert "(8, 8)" not in error and "units to 1" in error
        assert app.check.layers[-1].error == error            # the panel marks the output layer, not ✓
        assert "✓ shapes fit" not in _text(stack)
        assert app.run_state.status == "error"


def _field_text(app, fid: str) -> str:
    return _text(app.screen.query_one(fid))


async def test_data_fields_show_the_values_in_use_never_a_dash():
    from nnplay.tui import session
    for name in ("spiral", "vae", "gan-ring"):
        app = _app(session.load_setup(name))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: parked(app))
            text = _field_text(app, "#data-fields")
            assert "—" not in text, (name, text)
            assert "augment" not in text            # a VAE or GAN learns the images: no augmentation offered
            if name == "spiral":                      # seed = 0 at the top of the preset file
                assert "seed" in text and "500" in text
                app.change_setting("data.name", "adding")
                await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "adding")
                app.change_setting("data.name", "spiral")
                await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "spiral")
                text = _field_text(app, "#data-fields")
                assert "—" not in text and "500" in text, text


def test_overlapping_warm_ups_report_the_time_that_passed_not_their_sum():
    from nnplay.tui.messages import KernelStats
    from nnplay.tui.state import KernelState
    state = KernelState(base=(10, 5))
    # a second build starts warming at t=105 while the first (t=100..160) still compiles
    state = state.add(KernelStats(105.0, 150.0, 40, 5))
    state = state.add(KernelStats(100.0, 160.0, 90, 7))
    assert state.text() == "kernels compiled (80 in 60.0s)"   # 60 s passed, not 45 + 60; 80 kernels, not 30 + 80
    assert state.cached == 2


async def test_at_80x24_with_the_network_focused_the_footer_keeps_help_quit_and_the_layer_keys():
    from textual.widgets._footer import FooterKey
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("0")
        app.screen.query_one(LayerStack).focus()
        wanted = ("question_mark", "q", "a", "x", "c", "left", "right", "space")
        # the footer redraws for the new focus when the app gets to it (late on a loaded machine)
        await wait_for(pilot, lambda: {k.key for k in app.screen.query(FooterKey)} >= set(wanted), timeout=10)
        keys = {k.key: k.region for k in app.screen.query(FooterKey)}
        for key in wanted:
            assert key in keys, key
            assert keys[key].right <= 80, (key, keys[key])     # drawn whole, not cut off
        spans = sorted((r.x, r.right) for r in keys.values())
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))   # nothing drawn over anything
        await pilot.press("n")                                 # the run keys still work, unlisted
        await wait_for(pilot, lambda: app.run_state.iteration == 1)


async def test_arrows_stay_in_their_panel():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        stack = app.screen.query_one(LayerStack)
        stack.focus()
        await pilot.press("up", "up")
        assert app.screen.focused is stack and stack.cursor == 0
        await pilot.press("down", "down", "down", "down")
        assert app.screen.focused is stack and stack.cursor == 2


async def test_the_save_dialog_shows_its_whole_hint_at_120_columns():
    from textual.widgets import Label
    from nnplay.tui.screens.prompts import SaveScreen
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen))
        await pilot.pause(0.1)
        hint = next(l for l in app.screen.query(Label) if "headless" in str(l.content))
        width = hint.content_region.width
        assert hint.content_region.height * width >= len(str(hint.content))   # room for every character
        assert app.screen.query_one(".dialog").region.contains_region(hint.region)


async def test_a_new_dataset_keeps_the_network_and_features_that_still_fit_and_says_so():
    from nnplay.tui import session
    app = _app(session.load_setup("spiral"))
    notes = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify = lambda message, **kw: notes.append(message)
        await wait_for(pilot, lambda: parked(app))
        hidden = [dict(c) for c in app.setup["model"]["layers"][:-1]]
        app.change_setting("data.name", "circle")            # 2-D to 2-D: features and layers stay
        await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "circle")
        assert app.setup["data"]["features"] == ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
        assert app.setup["model"]["layers"][:-1] == hidden
        app.change_setting("data.name", "font-digits")       # to images: a flatten in front, the rest kept
        await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "font-digits")
        layers = app.setup["model"]["layers"]
        assert layers[0] == {"type": "flatten"} and layers[1:-1] == hidden
        assert layers[-1]["units"] == 10 and layers[-1]["activation"] == "softmax"
        assert any("kept your network for image data" in n and "flatten" in n for n in notes), notes
        app.setup["model"]["layers"][1:1] = [{"type": "reshape", "target_shape": [16, 16, 1]},
                                             {"type": "conv2d", "filters": 2, "kernel_size": 3}]
        app.change_setting("data.name", "spiral")            # a conv stack cannot take 2-D points
        await wait_for(pilot, lambda: parked(app) and app.experiment.dataset.name == "spiral")
        assert any("a starter network for 2d data: your network does not fit" in n for n in notes), notes


async def test_space_after_the_end_offers_more_epochs_first_or_a_fresh_start():
    from nnplay.tui.screens.prompts import ChoiceScreen
    app = _app(small_setup(epochs=2))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.run_state.status == "finished")
        weights = app.experiment.model.get_weights()
        await pilot.press("space")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert [c for c, _ in app.screen.choices] == ["continue", "reset", None]
        await pilot.press("escape")                          # cancel: nothing happens
        assert app.run_state.status == "finished" and app.run_state.epoch == 2
        await pilot.press("space", "down", "enter")          # start over: fresh weights, and it runs
        await wait_for(pilot, lambda: app.run_state.status == "finished" and app.run_state.epoch == 2
                       and len(app.run_state.history["loss"]) == 2 and app.run_id > 1)
        # fresh weights from the same seed train to the same numbers (a continuation would have moved on)
        assert all((a == b).all() for a, b in zip(weights, app.experiment.model.get_weights()))


async def test_augmentation_toggle_and_what_the_network_sees():
    from nnplay.tui import session
    setup = session.load_setup("cnn-font-digits")
    setup["training"]["epochs"] = 1
    app = _app(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        assert "augment" in _field_text(app, "#data-fields") and app.experiment.augment is None
        app.change_setting("data.augment", True)                 # the Data panel's toggle (← → on the row)
        await wait_for(pilot, lambda: parked(app) and app.experiment.augment is not None)
        assert app.setup["data"]["augment"] == {"rotation": 0.05, "zoom": 0.1, "translation": 0.1}
        await wait_for(pilot, lambda: app.visuals is not None and len(app.visuals.augmented) == 8)
        first, *seen = app.visuals.augmented
        assert all(img.shape == first.shape for img in seen) and any((img != first).any() for img in seen)
        assert "What the network sees in training" in _text(app.screen.query_one("#output-note"))
        app.change_setting("data.augment", False)
        await wait_for(pilot, lambda: parked(app) and app.experiment.augment is None)
        assert "augment" not in app.setup["data"]


async def test_frozen_layers_and_a_pretrained_base_are_marked():
    from nnplay.tui import session
    from nnplay.tui.widgets.model_view import ModelView
    setup = session.load_setup("transfer-digits-bold")
    app = _app(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app), timeout=90)     # the base trains once, then is cached
        assert app.check.error is None and app.check.base.startswith("base transfer-digits-base: 6 layers")
        assert "❄ frozen" in app.check.base
        stack = app.screen.query_one(LayerStack)
        assert "base transfer-digits-base" in _text(stack)
        await pilot.press("4")
        await pilot.pause(0.2)
        model_text = _text(app.screen.query_one(ModelView))
        assert "frozen ❄" in model_text and "1,290 trainable" in model_text
        stack.focus()
        await pilot.press("f")                                  # freeze the new head too
        await wait_for(pilot, lambda: parked(app) and app.setup["model"]["layers"][-1].get("trainable") is False)
        assert "❄ frozen" in _text(stack)
        assert not any(layer.trainable for layer in app.experiment.model.layers)
        await pilot.press("f")                                  # and unfreeze it again
        await wait_for(pilot, lambda: parked(app) and "trainable" not in app.setup["model"]["layers"][-1])
        await pilot.press("F")                                  # unfreeze the base
        await wait_for(pilot, lambda: parked(app) and app.setup["model"]["base"].get("trainable") is True)
        assert all(layer.trainable for layer in app.experiment.model.layers)
        assert "trainable" in app.check.base


async def test_a_resize_while_the_boundary_map_is_gone_is_no_error():
    """A grid resize can arrive while the main screen is rebuilt or closed: no boundary map, no traceback."""
    from nnplay.tui.widgets.output import BoundaryView
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        assert app.view == "output" and app.boundary_visible()
        await app.screen_main().query_one(BoundaryView).remove()
        assert not app.boundary_visible()
        app.on_grid_resized(None)

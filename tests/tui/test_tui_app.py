"""Drive the real playground with keys: build a network, train, pause, step, change the learning rate,
switch views, save and reopen a preset, and watch a divergence pause training with an explanation."""
from __future__ import annotations

from tui_helpers import parked, regression_setup, small_setup, wait_for
from textual.widgets import ContentSwitcher

from nnplay.tui.app import NnplayApp
from nnplay.tui.screens.help import HelpScreen
from nnplay.tui.screens.prompts import ChoiceScreen, LayerScreen, SaveScreen
from nnplay.tui.widgets.layer_stack import LayerStack
from nnplay.tui.widgets.output import BoundaryView
from nnplay.tui.widgets.status import HealthLine, StatusLine


def _app(setup=None, **kw) -> NnplayApp:
    return NnplayApp(setup if setup is not None else small_setup(), test_mode=True, **kw)


async def _focus_stack(pilot, app) -> LayerStack:
    stack = app.screen.query_one(LayerStack)
    stack.focus()
    await pilot.pause(0.05)
    return stack


async def test_starts_ready_with_a_checked_network():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        assert app.run_state.status == "ready"
        assert app.check.error is None
        assert [c.output_shape for c in app.check.layers] == [(8,), (8,), (1,)]
        status = str(app.screen.query_one(StatusLine).render())
        assert "ready" in status and "spiral" in status


async def test_build_a_network_with_keys():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        stack = await _focus_stack(pilot, app)
        await pilot.press("a")                         # add a hidden layer below the first
        await wait_for(pilot, lambda: parked(app) and len(app.setup["model"]["layers"]) == 4)
        assert stack.cursor == 1
        await pilot.press("right", "right")            # two more units
        await wait_for(pilot, lambda: parked(app) and app.setup["model"]["layers"][1]["units"] == 10)
        await pilot.press("c")                         # cycle its activation
        assert app.setup["model"]["layers"][1]["activation"] != "tanh"
        await pilot.press("shift+down")                # move it below the next layer
        assert app.setup["model"]["layers"][2]["units"] == 10
        await pilot.press("x")                         # and remove it
        await wait_for(pilot, lambda: parked(app) and len(app.setup["model"]["layers"]) == 3)
        assert app.check.error is None
        assert app.experiment.model.count_params() == app.check.total_params


async def test_layer_editor_and_impossible_stack_shown_in_place():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await _focus_stack(pilot, app)
        await pilot.press("enter")                     # edit layer 1
        assert isinstance(app.screen, LayerScreen)
        for _ in range(12):                            # cycle the type: dense -> dropout -> ... -> lstm
            if app.screen.layer["type"] == "lstm":
                break
            await pilot.press("right")
        await pilot.press("escape")
        assert app.check.error is not None
        assert "lstm" in app.check.error and "(None, 6)" in app.check.error
        assert app.run_state.status == "error"
        assert "lstm" in str(app.screen.query_one(HealthLine).render())
        rendered = str(app.screen.query_one(LayerStack).render())
        assert "✗" in rendered
        await pilot.press("space")                     # refuses to train an impossible stack
        assert app.run_state.status == "error"
        await _focus_stack(pilot, app)
        await pilot.press("x")                         # remove the bad layer: back to a working stack
        await wait_for(pilot, lambda: parked(app) and app.check.error is None)
        assert app.run_state.status == "ready"


async def test_step_run_pause_and_learning_rate():
    app = _app(small_setup(epochs=3))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("n")                         # one batch, then pause
        await wait_for(pilot, lambda: app.run_state.iteration == 1 and app.loop.parked)
        assert app.run_state.status == "paused"
        await pilot.press("n")
        await wait_for(pilot, lambda: app.run_state.iteration == 2 and app.loop.parked)
        lr = app.run_state.learning_rate
        await pilot.press("plus")                      # live: x2
        assert app.setup["training"]["optimizer"]["learning_rate"] == lr * 2
        await pilot.press("n")
        await wait_for(pilot, lambda: app.run_state.iteration == 3 and app.loop.parked)
        assert app.run_state.learning_rate == lr * 2
        assert app.experiment.model.optimizer.current_learning_rate() == lr * 2
        await pilot.press("minus", "minus")
        assert app.setup["training"]["optimizer"]["learning_rate"] == lr / 2
        await pilot.press("space")                     # run the 3 epochs to the end
        await wait_for(pilot, lambda: app.run_state.status == "finished")
        assert app.run_state.epoch == 3 and len(app.run_state.history["loss"]) == 3
        await pilot.press("space")                     # space again offers another round first
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "continue for 3 more epochs" in app.screen.choices[0][1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.run_state.status == "finished" and app.run_state.epoch == 6)
        assert len(app.run_state.history["loss"]) == 6


async def test_pause_while_running():
    setup = small_setup(epochs=100_000)
    app = _app(setup)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        app.action_toggle_training()                   # the key is "space"; keys are tested elsewhere
        await wait_for(pilot, lambda: app.run_state.status == "running" and app.run_state.iteration > 50)
        app.action_toggle_training()
        await wait_for(pilot, lambda: app.run_state.status == "paused" and app.loop.parked)
        seen = app.run_state.iteration
        await pilot.pause(0.2)
        assert app.run_state.iteration == seen         # paused means paused


async def test_switch_views_with_number_keys():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        switcher = app.screen.query_one(ContentSwitcher)
        for key, view in zip("23451", ("curves", "inside", "model", "errors", "output")):
            await pilot.press(key)
            assert app.view == view and switcher.current == view
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_narrow_screen_collapses_setup_into_a_tab():
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        setup_panel = app.screen.query_one("#setup")
        assert not setup_panel.display or setup_panel.region.width == 0
        await pilot.press("0")
        await pilot.pause(0.05)
        assert setup_panel.region.width > 0
        await pilot.press("1")
        await pilot.pause(0.05)
        assert setup_panel.region.width == 0
        assert app.screen.query_one(BoundaryView).region.width > 0


async def test_save_a_preset_and_open_it_again(tmp_path):
    path = tmp_path / "mine.toml"
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("plus")                      # a change worth saving: learning rate 0.06
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveScreen)
        app.screen.query_one("Input").value = str(path)
        await pilot.press("enter")
        assert path.exists()
        assert "learning_rate = 0.06" in path.read_text()
        await pilot.press("minus", "minus")            # change it again, then reopen the saved file
        assert app.setup["training"]["optimizer"]["learning_rate"] == 0.015
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("end", "enter")              # the last entry: "a .toml file…"
        assert isinstance(app.screen, SaveScreen)
        app.screen.query_one("Input").value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: parked(app) and app.source == str(path))
        assert app.setup["training"]["optimizer"]["learning_rate"] == 0.06
        assert app.run_state.learning_rate == 0.06


async def test_save_through_the_command_palette(tmp_path):
    path = tmp_path / "palette.toml"
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("ctrl+p")
        await pilot.press(*"save setup")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen))
        app.screen.query_one("Input").value = str(path)
        await pilot.press("enter")
        assert path.exists()


async def test_nan_pauses_with_an_explanation():
    app = _app(regression_setup())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        for _ in range(7):                             # 0.01 -> 1.28: far too large for plain SGD here
            await pilot.press("plus")
        assert app.setup["training"]["optimizer"]["learning_rate"] == 1.28
        await pilot.press("space")
        await wait_for(pilot, lambda: app.run_state.status == "diverged" and app.loop.parked)
        health = str(app.screen.query_one(HealthLine).render())
        assert "diverged" in health and "learning rate" in health
        assert "diverged" in str(app.screen.query_one(StatusLine).render())
        assert "press r" in health
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus", "minus")
        await pilot.press("r")                         # fresh weights at the lower rate
        await wait_for(pilot, lambda: parked(app) and app.run_state.status == "ready")
        await pilot.press("n")
        await wait_for(pilot, lambda: app.run_state.iteration == 1 and app.loop.parked)
        assert app.run_state.status == "paused"


async def test_no_color_draws_the_shade_ramp():
    from nnplay.tui.render import Shade
    app = _app(no_color=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        group = app.screen.query_one(BoundaryView).render()
        assert isinstance(group.renderables[0], Shade)


async def test_a_report_that_arrives_while_quitting_draws_nothing_and_shows_no_traceback(monkeypatch):
    """Quitting while training: the worker's last Progress or VisualsReady can arrive after the screen's
    widgets are gone. That is nothing to draw, not an error; a widget missing while the app runs still is."""
    import pytest
    from textual.css.query import NoMatches

    from nnplay.tui.messages import VisualsReady
    from nnplay.tui.probes import Visuals

    app = NnplayApp(small_setup(), warm_kernels=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.run_state.status == "ready")

        def gone():                                   # what drawing meets when the widgets are gone
            raise NoMatches("No nodes match 'BoundaryView' on MainScreen()")
        monkeypatch.setattr(app, "show_visuals", gone)
        with pytest.raises(NoMatches):                # running: a missing widget is a bug
            app.visuals_ready(VisualsReady(Visuals(run_id=app.run_id)))
        monkeypatch.setattr(app, "_running", False)   # what Textual sets first when shutting down
        app.visuals_ready(VisualsReady(Visuals(run_id=app.run_id)))
        monkeypatch.undo()
        # the boundary's size check after drawing meets the same vanished widgets
        import numpy as np
        monkeypatch.setattr(app, "show_visuals", lambda: None)
        monkeypatch.setattr(app, "boundary_visible", gone)
        monkeypatch.setattr(app, "_running", False)
        app.view = "output"
        app.visuals_ready(VisualsReady(Visuals(run_id=app.run_id, boundary=np.zeros((3, 4)))))
        monkeypatch.undo()


def test_a_report_after_the_last_screen_is_gone_draws_nothing():
    """Later in shutdown Textual empties the screen stack; a report that arrives then found `app.screen`
    raising ScreenStackError (seen once in the suite) instead of nothing to draw."""
    from nnplay.tui.messages import VisualsReady
    from nnplay.tui.probes import Visuals

    app = NnplayApp(small_setup(), warm_kernels=False)     # never run: its screen stack is empty
    assert app.screen_stack == []
    assert app.is_mounted_main() is False
    app.visuals_ready(VisualsReady(Visuals(run_id=app.run_id)))

"""Variants side by side: open one variant (v), train all of them side by side (V), and A/B (b)."""
from __future__ import annotations

from tui_helpers import parked, small_setup, wait_for

from nnplay.tui import session
from nnplay.tui.app import NnplayApp
from nnplay.tui.screens.compare import CompareScreen, compare_table
from nnplay.tui.screens.prompts import ChoiceScreen


def _optimizers(epochs: int = 4) -> dict:
    setup = session.load_setup("optimizers")
    setup["training"]["epochs"] = epochs
    return setup


def _table_text(screen) -> str:
    from rich.console import Console
    console = Console(width=160, record=True, file=open("/dev/null", "w"))
    console.print(screen.query_one("#compare-table").content)
    return console.export_text()


async def test_v_opens_one_variant_and_the_preset_stays_at_hand():
    app = NnplayApp(_optimizers(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert [c for c, _ in app.screen.choices] == ["", "sgd", "momentum", "adam"]
        await pilot.press("down", "down", "enter")                # momentum
        await wait_for(pilot, lambda: parked(app) and app.setup["training"]["optimizer"].get("momentum") == 0.9)
        assert app.variants_of is not None and "variant momentum" in app.source
        await pilot.press("v")                                    # the list is still there, momentum picked
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert app.screen.query_one("OptionList").highlighted == 2


async def test_V_trains_every_variant_side_by_side_and_marks_the_best():
    app = NnplayApp(_optimizers(epochs=4), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.done, timeout=60)
        state = screen.state
        assert state.labels == ("sgd", "momentum", "adam")
        assert all(len(h["loss"]) == 4 for h in state.histories)            # each trained its 4 epochs
        assert state.histories[0]["loss"] != state.histories[2]["loss"]
        losses = [m["train_loss"] for m in state.metrics]
        text = _table_text(screen)
        assert f"★ {min(losses):.4g}" in text                               # the best train loss is marked
        for label in state.labels:
            assert label in text
        plot = screen.query_one("#compare-loss")
        assert "val_loss" in plot.title                                      # one curve per variant, overlaid
        assert [(name, n) for name, n, _ in plot._drawn[2]] == [("sgd", 4), ("momentum", 4), ("adam", 4)]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))


async def test_the_same_variants_train_to_the_same_numbers_as_nnplay_run(capsys):
    import json

    from nnplay.core.cli.main import main
    app = NnplayApp(_optimizers(epochs=3), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("V")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.done, timeout=60)
        state = app.screen.state
    assert main(["run", "optimizers", "--epochs", "3", "--json"]) in (0, 1)
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    for i, v in enumerate(summary["variants"]):
        assert v["variant"] == state.labels[i]
        assert abs(v["metrics"]["test_loss"] - state.metrics[i]["test_loss"]) < 1e-9


async def test_b_keeps_A_then_compares_A_and_B_with_the_difference():
    app = NnplayApp(small_setup(epochs=3), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("b")
        assert app.ab_a is not None
        await pilot.press("b")                                     # nothing changed yet: no comparison
        assert not isinstance(app.screen, CompareScreen)
        await pilot.press("plus")                                  # B: twice the learning rate
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        screen = app.screen
        assert "learning_rate 0.03 → 0.06" in screen.title_text
        await wait_for(pilot, lambda: screen.done, timeout=60)
        assert screen.state.labels == ("A", "B")
        text = _table_text(screen)
        assert "B − A" in text


def test_the_table_marks_smaller_losses_and_larger_accuracies_as_best():
    from nnplay.tui.compare import CompareState
    state = CompareState(1, ("A", "B"), ({"loss": [0.5]}, {"loss": [0.4]}), (1, 1), ("finished", "finished"),
                         ("", ""), ({"train_loss": 0.5, "test_accuracy": 0.9}, {"train_loss": 0.4,
                                                                               "test_accuracy": 0.8}), (None, None))
    from rich.console import Console
    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    console.print(compare_table(state, color=False))
    text = console.export_text()
    assert "★ 0.4" in text and "★ 0.9" in text and "★ 0.5" not in text and "★ 0.8" not in text
    assert "-0.1" in text                                          # B − A

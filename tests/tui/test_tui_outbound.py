"""What leaves the playground: the share line (l) and, opened again, the same setup."""
from __future__ import annotations

from tui_helpers import parked, small_setup, wait_for

from nnplay.core.presets import load_preset, preset_from_share_string
from nnplay.tui import session
from nnplay.tui.app import NnplayApp
from nnplay.tui.commands import open_preset
from nnplay.tui.screens.outbound import ShareScreen


async def test_l_shows_the_share_line_copies_it_and_it_opens_the_same_setup():
    setup = small_setup(epochs=7)
    app = NnplayApp(setup, test_mode=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ShareScreen))
        line = app.screen.line
        assert line.startswith("nnplay1:") and app.clipboard == line
        assert preset_from_share_string(line).to_dict() == session.to_preset(app.setup).to_dict()
        await pilot.press("escape")
        app.setup["training"]["epochs"] = 3                  # change something, then open the line again
        open_preset(app, line)
        await wait_for(pilot, lambda: parked(app) and app.setup["training"]["epochs"] == 7)
        assert app.source == f"{setup['name']} (share string)"


async def test_a_setup_that_cannot_be_shared_says_why():
    app = NnplayApp(small_setup(), test_mode=True)
    notes = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify = lambda message, **kw: notes.append((message, kw.get("title")))
        await wait_for(pilot, lambda: parked(app))
        app.setup["training"]["epochs"] = -1                 # not a valid preset any more
        await pilot.press("l")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ShareScreen)
        assert notes and notes[-1][1] == "cannot share this setup" and "epochs" in notes[-1][0]


def test_nnplay_tui_accepts_a_share_string():
    from nnplay.core.presets import share_string
    line = share_string(load_preset("xor"))
    assert session.load_setup(line) == load_preset("xor").to_dict()


async def test_a_keras_file_opens_read_only_with_its_summary(tmp_path):
    from nnplay.core.keras import Input, Model, layers
    from nnplay.tui.screens.saved_model import SavedModelScreen
    inputs = Input((4,))
    model = Model(inputs, layers.Dense(2, activation="softmax", name="probs")(layers.Dense(3)(inputs)))
    path = str(tmp_path / "m.keras")
    model.save(path)
    app = NnplayApp(small_setup(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        open_preset(app, path)
        await wait_for(pilot, lambda: isinstance(app.screen, SavedModelScreen))
        assert "probs" in app.screen.text and f"{model.count_params()} parameters" in app.screen.text


async def test_e_exports_the_trained_model_and_its_script_checks(tmp_path):
    """Train spiral in the playground, export to PyTorch, run the script's --check (where torch is)."""
    import subprocess
    import sys

    import numpy as np

    from nnplay.tui.screens.outbound import ExportedScreen
    from nnplay.tui.screens.prompts import ChoiceScreen, SaveScreen
    app = NnplayApp(small_setup(epochs=5), test_mode=True)
    out = tmp_path / "spiral-pytorch"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.run_state.status == "finished")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert app.screen.choices[0][0] == "pytorch"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen))
        app.screen.dismiss(str(out))
        await wait_for(pilot, lambda: isinstance(app.screen, ExportedScreen), timeout=60)
        assert "python model_pytorch.py --check" in "\n".join(app.screen.lines)
        trained = app.experiment.model.get_weights()
    with np.load(out / "weights.npz", allow_pickle=False) as w:
        exported = [w[k] for k in w.files]
    assert sorted(a.tobytes() for a in exported) == sorted(a.tobytes() for a in trained)   # as trained
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    run = subprocess.run([sys.executable, "model_pytorch.py", "--check"], cwd=out, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(ok)" in run.stdout


async def test_notifications_show_brackets_as_text():
    app = NnplayApp(small_setup(), test_mode=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: parked(app))
        app.notify("opened my[/bold]preset [red]x", title="opened")   # a preset named like markup
        await pilot.pause(0.2)
        note = list(app._notifications)[-1]
        assert note.markup is False and note.message == "opened my[/bold]preset [red]x"   # shown as itself

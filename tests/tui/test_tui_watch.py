"""``nnplay watch``: a learner's script runs in its own thread and each of its fit() calls shows live in the
playground's views; the script goes on when a run ends or the view closes, and the setup is read-only."""
from __future__ import annotations

import textwrap

from tui_helpers import wait_for

from nnplay.tui.watch import WatchApp
from nnplay.tui.widgets.status import StatusLine

SCRIPT = """
import numpy as np
from nnplay import keras
rng = np.random.default_rng(0)
x = rng.standard_normal((120, 2)).astype("float32")
y = (x[:, 0] * x[:, 1] > 0).astype("int64")
model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
print("first fit")
h1 = model.fit(x, y, epochs=EPOCHS, batch_size=20, validation_split=0.25)
print("second fit, after", len(h1.history["loss"]), "epochs")
model.fit(x, y, epochs=2, batch_size=20)
print("done")
"""


def script(tmp_path, epochs: int):
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPT.replace("EPOCHS", str(epochs))))
    return str(path)


async def test_each_fit_is_shown_and_the_script_runs_to_its_end(tmp_path):
    app = WatchApp(script(tmp_path, 3), [], test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.exit_code is not None and app.run_state.status == "finished")
        assert app.fits == 2 and app.exit_code == 0
        assert app.experiment.dataset.meta["domain"]                 # two inputs: the decision plane shows
        assert [c.output_shape for c in app.check.layers] == [(8,), (1,)]
        assert app.run_state.epochs == 2 and len(app.run_state.history["loss"]) == 2
        status = str(app.screen.query_one(StatusLine).render())
        assert "finished" in status and "2→8→1" in status
        await pilot.press("r")                                       # the script decides, not the keys
        await pilot.pause(0.1)
        assert app.fits == 2
    text = app.output.kept.getvalue()
    assert "first fit" in text and "second fit, after 3 epochs" in text and "done" in text


async def test_pausing_holds_the_script_and_quitting_lets_it_finish(tmp_path, capfd):
    app = WatchApp(script(tmp_path, 5000), [], test_mode=True)     # long enough to be paused on a busy machine
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.loop is not None and app.run_state.status == "running")
        await pilot.press("space")                                   # pause the script's first fit
        await wait_for(pilot, lambda: app.loop.trainer.paused and app.loop.parked)
        epoch = app.run_state.epoch
        await pilot.pause(0.3)
        assert app.loop.trainer.paused and app.run_state.epoch == epoch and app.exit_code is None
        await pilot.press("plus")                                    # the live learning rate still works
        await pilot.pause(0.1)
        assert app.loop.trainer.learning_rate == 0.002
        await pilot.press("q")                                       # closing the view resumes the run
    app.thread.join(timeout=60)
    assert app.exit_code == 0 and "first fit" in app.output.kept.getvalue()
    out = capfd.readouterr().out                                     # after the view, straight to the terminal
    assert "second fit, after 5000 epochs" in out and "done" in out


async def test_a_saved_functional_model_opens_read_only(tmp_path):
    from nnplay import keras
    from nnplay.tui.app import NnplayApp
    from nnplay.tui.commands import open_preset
    from nnplay.tui.screens.saved_model import SavedModelScreen

    a, b = keras.Input(shape=(4,), name="left"), keras.Input(shape=(3,), name="right")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([keras.layers.Dense(5)(a), b]))
    path = keras.Model([a, b], out, name="two_inputs").save(tmp_path / "two.npz")
    from tui_helpers import small_setup
    app = NnplayApp(small_setup(), test_mode=True)
    async with app.run_test(size=(120, 40)) as pilot:
        open_preset(app, str(path))
        await pilot.pause(0.2)
        assert isinstance(app.screen, SavedModelScreen)
        text = app.screen.text
        assert "Connected to" in text and "left[0][0]" in text and "holds no data" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, SavedModelScreen)
        open_preset(app, str(tmp_path / "missing.npz"))
        await pilot.pause(0.1)
        assert not isinstance(app.screen, SavedModelScreen)

"""``nnplay watch script.py``: the playground showing a learner's own script from the inside.

The script runs in its own thread. Each ``fit()`` it calls is handed over (``nnplay.core.training.watch``):
the app shows that model and its data with the usual views, and the fit's training loop runs in the
script's thread through the same :class:`~.worker.TrainLoop` the playground uses, so pause, step and the
learning-rate keys work as they do on a preset. The script carries on when the run ends, or when the view
is closed (the rest then runs without it). What the script prints is kept and shown after the view closes.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading

from textual.binding import Binding

from nnplay.core.experiments.watched import WatchedExperiment
from nnplay.core.training import run_fit
from nnplay.core.training.watch import watching

from .app import NnplayApp
from .state import LayerCheck, RunState, StackCheck


def watch_setup(script: str, model=None, trainer=None) -> dict:
    """A view-only setup for the panels: the script's name, and the model's layers and fit settings."""
    layers = []
    if model is not None:
        for layer in model.layers:
            cfg = layer.get_config()
            if cfg.get("type") != "input_layer":
                layers.append({k: v for k, v in cfg.items() if k not in ("inbound_nodes", "name", "input_shape")})
    training = {"loss": getattr(getattr(model, "loss", None), "name", "mse"), "epochs": 1, "batch_size": 32,
                "optimizer": {"name": "adam", "learning_rate": 0.001}}
    if model is not None and model.optimizer is not None:
        training["optimizer"] = {"name": model.optimizer.key,
                                 "learning_rate": float(model.optimizer.current_learning_rate())}
    if trainer is not None:
        training.update(epochs=trainer.epochs, batch_size=trainer.batch_size)
    return {"version": 1, "name": os.path.basename(script), "description": f"watching {script}", "seed": 0,
            "data": {"name": "script data"}, "model": {"layers": layers}, "training": training}


def stack_check(model) -> StackCheck:
    layers = [l for l in model.layers if type(l).__name__ != "InputLayer"]
    check = StackCheck(input_shape=tuple(model.input_shapes[0]) if model.input_shapes else ())
    check.layers = [LayerCheck(l.name, tuple(l.output_shape) if not isinstance(l.output_shape, list) else None,
                               l.count_params()) for l in layers]
    check.total_params = model.count_params()
    return check


class _ScriptOutput(io.TextIOBase):
    """Where the script prints: kept while the view is open (it would tear the screen), then the terminal."""

    def __init__(self, view_closed: threading.Event):
        self.kept, self.view_closed = io.StringIO(), view_closed

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        target = sys.__stdout__ if self.view_closed.is_set() and sys.__stdout__ is not None else self.kept
        return target.write(text)

    def flush(self) -> None:
        if self.view_closed.is_set() and sys.__stdout__ is not None:
            sys.__stdout__.flush()


class WatchApp(NnplayApp):
    """The playground, fed by a script's fits instead of a preset."""

    BINDINGS = [Binding("q", "quit", "Quit (the script goes on)")]

    def __init__(self, script: str, args: list[str], *, no_color: bool = False, test_mode: bool = False):
        super().__init__(watch_setup(script), no_color=no_color, warm_kernels=False, source=script,
                         test_mode=test_mode)
        self.script, self.args = script, list(args)
        self.closed = threading.Event()
        self.fits = 0
        self.exit_code: int | None = None
        self.output = _ScriptOutput(self.closed)
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the script's thread
    def rebuild(self, **_kwargs) -> None:
        """The playground builds its setup once the screen is up (and again after each edit): here the
        first call starts the script, later ones say the script decides."""
        if self.thread is None:
            self._start()
        else:
            self._script_decides()

    def _start(self) -> None:
        self.set_run_status("waiting", f"running {os.path.basename(self.script)}: waiting for its first fit()")
        self.thread = threading.Thread(target=self._run_script, name="nnplay-watch-script", daemon=True)
        self.thread.start()

    def _run_script(self) -> None:
        from nnplay.core.cli.watch import run_script

        with watching(self._watch), contextlib.redirect_stdout(self.output), contextlib.redirect_stderr(self.output):
            code = run_script(self.script, self.args)
        self.exit_code = code
        if not self.closed.is_set():
            self.call_from_thread(self._script_done, code)

    def _post(self, message) -> None:
        if not self.closed.is_set():
            self.post_message(message)

    def _watch(self, model, trainer, verbose):
        """A fit in the script (its thread): shown live unless the view was closed."""
        if self.closed.is_set():
            return run_fit(trainer, verbose)
        loop = self.call_from_thread(self._show_fit, model, trainer)
        loop.run(lambda: False)          # the script asked for these epochs: closing the view never cuts them
        return trainer.history

    # ------------------------------------------------------------------ the app's thread
    def _show_fit(self, model, trainer):
        from .worker import TrainLoop

        self.fits += 1
        name = f"{os.path.basename(self.script)} · fit {self.fits} · {model.name}"
        exp = WatchedExperiment.of(model, trainer, name)
        self.retire_loop()
        self.experiment = exp
        self.setup = watch_setup(self.script, model, trainer)
        self.check = stack_check(model)
        self.run_state = RunState(status="running", epochs=trainer.epochs)
        self.visuals = None
        self.run_id += 1
        loop = TrainLoop(exp, self.run_id, self._post, initial_epoch=trainer.initial_epoch,
                         epochs=trainer.epochs - trainer.initial_epoch)
        loop.view, loop.layer, loop.sample = self.view, self.options.layer, self.options.sample
        loop.grid = self.grid_size()
        self.loop = loop
        loop.trainer.resume()            # TrainLoop starts paused; the script is waiting for this run
        self.show_setup()
        self.show_all()
        self.show_health()
        return loop

    def retire_loop(self) -> None:
        """The previous fit has returned already: forget it without stopping anything."""
        old = self.loop
        if old is not None:
            with old.lock:
                old.parked = False
        self.loop = None

    def _script_done(self, code: int) -> None:
        word = "finished" if code == 0 else f"stopped with exit status {code}"
        self.notify(f"the script {word} after {self.fits} fit(s); press q to leave", timeout=8)
        if self.run_state.status in ("waiting",):
            self.set_run_status("finished", f"the script {word} without calling fit()")

    def action_quit(self) -> None:
        self.closed.set()
        loop = self.loop
        if loop is not None and loop.trainer.paused:
            loop.trainer.resume()        # a paused run would hold the script forever
        self.exit()

    # ------------------------------------------------------------------ what a preset allows and a script does not
    def _script_decides(self, *_args, **_kwargs) -> None:
        self.notify("watching a script: change the script to change this", timeout=3)

    action_reset = action_regenerate = _script_decides
    on_stack_changed = on_layer_edit_requested = on_edit_requested = _script_decides
    action_save_preset = action_open_preset = action_share = action_export = _script_decides
    action_pick_variant = action_compare_variants = action_ab = _script_decides
    ask_after_the_end = _script_decides          # a finished fit: the script goes on by itself

    def on_setting_changed(self, event) -> None:
        if event.key == "training.optimizer.learning_rate":
            self.apply_learning_rate(float(event.value))
        else:
            self._script_decides()

    def continue_training(self, resume: bool) -> None:
        self.notify("this fit is over: the script decides what runs next", timeout=3)

    def action_step(self) -> None:
        if self.loop is not None and self.run_state.status not in ("finished", "diverged", "stopped"):
            self.loop.trainer.step()


def run_watch(script: str, args: list[str], no_color: bool = False) -> int:
    """Open the watch view on ``script``; returns the script's exit status once it has finished."""
    if no_color:
        os.environ["NO_COLOR"] = "1"
    app = WatchApp(script, args, no_color=no_color)
    app.run()
    app.closed.set()
    text = app.output.kept.getvalue()          # what the script printed while the view was open
    if text:
        print(text, end="" if text.endswith("\n") else "\n", flush=True)
    if app.thread is not None:
        app.thread.join()                      # the rest of the script, printing straight to the terminal
    return int(app.exit_code or 0)

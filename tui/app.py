"""The nnplay playground app: owns the session state and the training worker, routes keys and messages.

Attributes down, messages up: widgets show state pushed into them and post messages; the worker threads post
:class:`Progress`, :class:`VisualsReady`, :class:`Built`; only this class changes the state.
"""
from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import replace

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.worker import get_current_worker

from nnplay.core.errors import NnplayError
from nnplay.core.safety import sanitize
from nnplay.core.tiers import NUMPY, while_compiling
from nnplay.core.training.controls import clamp_learning_rate

from . import session, warmup
from .commands import PresetCommands, source_label
from .editing import EditingMixin
from .keys import OtherKeysMixin
from .messages import Built, KernelsWarm, Progress, VisualsReady
from .screens.main import MainScreen
from .state import VIEWS, KernelState, RunState, StackCheck, ViewOptions, new_setup, pace_limit
from .views import ViewsMixin

_VIEWS = Binding.Group("Views", compact=True)
_LR = Binding.Group("LR", compact=True)


class NnplayApp(ViewsMixin, EditingMixin, OtherKeysMixin, App[int]):
    CSS_PATH = "nnplay.tcss"
    TITLE = "nnplay"
    COMMANDS = App.COMMANDS | {PresetCommands}
    BINDINGS = [
        Binding("space", "toggle_training", "Run", id="toggle-training",
                tooltip="Start or pause training"),
        Binding("n", "step", "Step", tooltip="Train one batch, then pause"),
        Binding("r", "reset", "Reset", tooltip="Fresh weights, same setup"),
        Binding("g", "regenerate", "Data", tooltip="Regenerate the data with a new seed, then reset"),
        Binding("plus,equals_sign,right_square_bracket", "learning_rate(2.0)", "LR×2", key_display="+",
                group=_LR, tooltip="Double the learning rate (live)"),
        Binding("minus,left_square_bracket", "learning_rate(0.5)", "LR÷2", key_display="-", group=_LR,
                tooltip="Halve the learning rate (live)"),
        *[Binding(str(i + 1), f"view('{key}')", label.split()[1], group=_VIEWS) for i, (key, label) in enumerate(VIEWS)],
        Binding("0", "view('setup')", "Setup", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+s", "save_preset", "Save preset", show=False),
        Binding("ctrl+o", "open_preset", "Open preset", show=False),
        Binding("l", "share", "Share", show=False, tooltip="The setup as one line to paste in a chat"),
        Binding("F", "toggle_base", "Base", show=False, tooltip="Freeze or unfreeze the [model.base]"),
        Binding("e", "export", "Export", show=False, tooltip="The model as a Keras or PyTorch script, with weights"),
        Binding("v", "pick_variant", "Variant", show=False, tooltip="Open one of the preset's variants"),
        Binding("V", "compare_variants", "Compare", show=False, tooltip="Train every variant side by side"),
        Binding("b", "ab", "A/B", show=False, tooltip="Keep this setup as A; press again to compare A with it"),
        Binding("d", "discretize", "Discretize", show=False),
        Binding("t", "show_test", "Test points", show=False),
        Binding("comma", "layer(-1)", "Prev layer", show=False),
        Binding("full_stop", "layer(1)", "Next layer", show=False),
        Binding("less_than_sign", "sample(-1)", "Prev sample", show=False),
        Binding("greater_than_sign", "sample(1)", "Next sample", show=False),
        Binding("s", "scale", "Scale", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, setup: dict | None = None, *, no_color: bool = False, test_mode: bool = False,
                 warm_kernels: bool = True, source: str = "", served=None) -> None:
        super().__init__()
        self.served = served      #: a :class:`~.served.ServedSession` when served to a browser (nnplay serve)
        self.setup = copy.deepcopy(setup) if setup is not None else new_setup()
        self.source = sanitize(source or self.setup.get("name", "playground"), one_line=True)  # a file's text
        self.check = StackCheck()
        self.run_state = RunState(status="building", learning_rate=float(
            session.get_field(self.setup, "training.optimizer.learning_rate") or 0.0))
        self.kernel_state = KernelState(base=warmup.counts())
        color = not (no_color or "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb")
        self.options = ViewOptions(color=color, test_mode=test_mode)
        self.warm_kernels = warm_kernels
        if not warm_kernels:
            self.kernel_state.status = "ready"
        self.view = "output"
        self.experiment = None
        self.loop = None
        self.run_id = self.build_id = 0
        self.visuals = None
        self.autostart = False
        self.opening = None       #: (model, path) of a saved model to show once the screen is up
        self.variants_of: dict | None = None   #: the whole preset, variants and all, while one variant is open
        self.ab_a: dict | None = None          #: setup A of an A/B comparison (``b``)

    #: actions that change the playground's run or setup: only on the playground itself, not under another
    #: screen (compare mode, a saved model, help), where the footer would offer keys that act unseen
    PLAYGROUND_ACTIONS = frozenset({"toggle_training", "step", "reset", "regenerate", "learning_rate", "view",
                                    "discretize", "show_test", "layer", "sample", "scale", "save_preset",
                                    "share", "export", "pick_variant", "compare_variants", "ab", "toggle_base"})

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Textual's toast, as plain text by default: messages name presets, files and layers from files, and
        a "[" in them must show as itself, never as markup (or as a markup error)."""
        super().notify(message, markup=markup, **kwargs)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in self.PLAYGROUND_ACTIONS and not isinstance(self.screen, MainScreen):
            return False
        return True

    # ------------------------------------------------------------------ start
    def on_mount(self) -> None:
        self.push_screen(MainScreen())
        if self.served is not None:
            self.set_timer(self.served.minutes * 60, self.session_over)
            self.notify(self.served.describe(), title="nnplay in the browser", timeout=8)
        self.call_after_refresh(self.rebuild, new_dataset=False)
        if self.opening is not None:
            from .screens.saved_model import SavedModelScreen
            self.push_screen(SavedModelScreen(*self.opening))

    def on_unmount(self) -> None:
        self.retire_loop()      # a parked trainer thread waits forever unless told to stop

    def session_over(self) -> None:
        """A served session's time is up: training stops, the page says so, the process ends soon after."""
        self.stop_training()
        self.set_run_status("stopped", "this session's time is up")
        self.notify(f"This session's {self.served.minutes:g} minutes are up: reload the page for a new one.",
                    title="session over", severity="warning", timeout=30)
        self.set_timer(20, lambda: self.exit(0))

    @contextlib.contextmanager
    def drawing(self):
        """Around drawing what a worker reported: a message that arrives while the app is quitting finds the
        screen's widgets already gone, and there is nothing left to draw into (not an error to show). A
        widget missing while the app runs is still an error."""
        try:
            yield
        except NoMatches:
            if getattr(self, "_running", True):    # Textual clears it when shutting down
                raise

    def is_mounted_main(self) -> bool:
        # the stack, never `self.screen`: that raises once shutdown has emptied the stack, and a worker's
        # report can still arrive then
        return any(isinstance(s, MainScreen) for s in self.screen_stack)

    def screen_main(self) -> MainScreen:
        return next(s for s in self.screen_stack if isinstance(s, MainScreen))

    @on(KernelsWarm)
    def kernels_warm(self, event: KernelsWarm) -> None:
        self.kernel_state = self.kernel_state.add(event.stats)
        if while_compiling(getattr(self.loop, "compiling", None)) == NUMPY:   # an older build's report
            self.kernel_state = replace(self.kernel_state, status="compiling", tiered=True)
        with self.drawing():
            self.show_status()

    @on(Built)
    def built(self, event: Built) -> None:
        if event.build_id != self.build_id:
            return
        exp = event.experiment
        if event.notes:                 # the build adapted the network to new data: adopt its setup
            self.setup = copy.deepcopy(event.setup)
        self.experiment = exp
        self.check = session.check_stack(self.setup, exp.input_shape, self.check_targets())
        self.check.base = session.base_line(exp)
        self.run_state = RunState(status="ready", epochs=exp.epochs)
        self.visuals = None
        if event.compiling is not None and not event.compiling.ready():
            self.kernel_state = replace(self.kernel_state, status="compiling", tiered=True)
        self.show_setup()
        self.start_loop(initial_epoch=0, history=None, compiling=event.compiling)
        lr = field_lr(self.setup)
        if lr is not None and lr != field_lr(event.setup):   # changed with + / - while it was building
            self.loop.trainer.set_learning_rate(lr)
        self.run_state.learning_rate = self.loop.trainer.learning_rate
        if event.notes:
            self.notify("; ".join(event.notes), title="adapted to the data", timeout=4)
        self.show_health()
        self.show_all()

    # ------------------------------------------------------------------ the training worker
    def start_loop(self, initial_epoch: int, history: dict | None, compiling=None) -> None:
        from .worker import TrainLoop   # numba-backed modules load after the first frame

        self.retire_loop()
        self.run_id += 1
        epochs = int(self.setup.get("training", {}).get("epochs") or self.experiment.epochs)
        loop = TrainLoop(self.experiment, self.run_id, self.post_message, initial_epoch=initial_epoch,
                         epochs=epochs, history=history, compiling=compiling)
        loop.view, loop.layer, loop.sample = self.view, self.options.layer, self.options.sample
        loop.grid = self.grid_size()
        loop.max_epochs_per_s = pace_limit(self.options.pace)
        self.loop = loop
        self._train(loop)
        if self.autostart:
            self.autostart = False
            loop.trainer.resume()

    def retire_loop(self) -> None:
        old = self.loop
        if old is not None:
            with old.lock:
                old.parked = False     # an old parked loop must never compute on a model in use again
            old.trainer.stop()
        self.loop = None

    def stop_training(self) -> None:
        self.retire_loop()
        self.workers.cancel_group(self, "training")

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def _train(self, loop) -> None:
        worker = get_current_worker()
        loop.run(lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, group="visuals", exit_on_error=False)
    def _refresh_parked(self, loop) -> None:
        loop.refresh_parked()

    def request_visuals(self) -> None:
        """Recompute the visuals for the current view now if training is parked (running loops refresh soon)."""
        loop = self.loop
        if loop is not None:
            loop.view, loop.layer, loop.sample = self.view, self.options.layer, self.options.sample
            loop.grid = self.grid_size()
            if loop.parked:
                self._refresh_parked(loop)

    @on(Progress)
    def progress(self, event: Progress) -> None:
        snap = event.snap
        if snap.run_id != self.run_id:
            return
        was = self.run_state.status
        rs = self.run_state
        fresh = snap.status == "paused" and snap.iteration == 0 and not snap.history
        rs.status = "ready" if fresh else snap.status
        rs.epoch, rs.epochs, rs.batch, rs.steps = snap.epoch, snap.epochs, snap.batch, snap.steps
        rs.iteration, rs.learning_rate, rs.samples_per_s = snap.iteration, snap.learning_rate, snap.samples_per_s
        rs.batch_loss, rs.message = snap.batch_loss, snap.message
        rs.average_samples_per_s, rs.samples_total = snap.average_samples_per_s, snap.samples_total
        rs.history = snap.history
        self.batch_losses = snap.batch_losses
        if snap.status == "diverged" and was != "diverged":
            self.notify(snap.message, title="training paused: the loss is not a number", severity="error",
                        timeout=10)
        with self.drawing():
            self.show_status()
            self.show_progress(status_changed=was != rs.status)
            if was != rs.status:
                self.show_health()

    @on(VisualsReady)
    def visuals_ready(self, event: VisualsReady) -> None:
        if event.visuals.run_id != self.run_id:
            return
        self.visuals = self.merge_visuals(self.visuals, event.visuals)
        with self.drawing():            # the size check below meets the same vanishing widgets when quitting
            self.show_visuals()
            self.show_health()
            b = event.visuals.boundary
            if b is not None and self.view == "output" and self.boundary_visible() \
                    and b.shape[::-1] != self.grid_size():
                self.request_visuals()  # drawn for a size the layout has since changed: draw it again

    # ------------------------------------------------------------------ run control (keys)
    def action_toggle_training(self) -> None:
        loop, rs = self.loop, self.run_state
        if self.check.error:
            self.notify(self.check.error, title="fix the network first", severity="warning")
            return
        if loop is None:
            self.autostart = True      # still building: start as soon as it is ready
            return
        if rs.status in ("finished", "diverged", "stopped"):
            self.ask_after_the_end()
        elif loop.trainer.paused:
            loop.trainer.resume()
            rs.status = "running"
        else:
            loop.trainer.pause()
        self.show_status()

    def ask_after_the_end(self) -> None:
        """Space after a run ended: continue with the same weights (the first choice), or start over."""
        from .screens.prompts import ChoiceScreen
        more = int(self.setup.get("training", {}).get("epochs") or self.experiment.epochs)
        choices = [("continue", f"continue for {more} more epochs (same weights, the curves go on)"),
                   ("reset", "start over: fresh weights, same setup"), (None, "cancel")]

        def picked(choice) -> None:
            if choice == "continue":
                self.continue_training(resume=True)
            elif choice == "reset":
                self.autostart = True
                self.action_reset()

        self.push_screen(ChoiceScreen(f"The run {self.run_state.status} after epoch {self.run_state.epoch}",
                                      choices, current="continue"), picked)

    def continue_training(self, resume: bool) -> None:
        """After the epochs ran out (or a divergence), keep training the same weights for another round."""
        self.autostart = resume
        self.start_loop(initial_epoch=self.run_state.epoch, history=self.run_state.history)

    def action_step(self) -> None:
        loop = self.loop
        if loop is None or self.check.error:
            return
        if self.run_state.status in ("finished", "diverged", "stopped"):
            self.continue_training(resume=False)
            loop = self.loop
        loop.trainer.step()

    def action_reset(self) -> None:
        self.rebuild(note="reset: fresh weights")

    def action_regenerate(self) -> None:
        data = self.setup.setdefault("data", {})
        data["seed"] = int(data.get("seed", self.setup.get("seed", 0)) or 0) + 1
        self.rebuild(data_changed=True, note=f"new data (seed {data['seed']})")

    def action_learning_rate(self, factor: float) -> None:
        current = self.loop.trainer.learning_rate if self.loop is not None else field_lr(self.setup) or 0.01
        self.apply_learning_rate(current * factor)

    def apply_learning_rate(self, lr: float) -> None:
        """Change the learning rate live. The trainer owns it (and holds it to the live range); the setup
        keeps the same value, so a saved preset and the next build use it too."""
        try:
            lr = self.loop.trainer.set_learning_rate(lr) if self.loop is not None else clamp_learning_rate(lr)
        except NnplayError as exc:
            self.notify(str(exc), severity="error")
            return
        session.set_field(self.setup, "training.optimizer.learning_rate", lr)
        if self.loop is not None:
            if self.setup.get("training", {}).get("schedule"):
                self.notify("the schedule is replaced by this constant rate until the next reset", timeout=4)
            if self.experiment is not None and self.experiment.kind == "gan":
                self.notify(f"the generator and the discriminator both learn at {lr:g} now", timeout=3)
        self.run_state.learning_rate = lr
        self.show_setup()
        self.show_status()

    def set_run_status(self, status: str, message: str = "") -> None:
        self.run_state.status = status
        self.run_state.message = message
        self.show_status()
        self.show_health()

    def open_setup(self, setup: dict, source: str) -> None:
        """Replace the whole setup (a preset was opened) and rebuild."""
        self.setup = copy.deepcopy(setup)
        self.source = source = sanitize(source, one_line=True)     # a preset's name: no escape sequences
        self.experiment = None
        self.rebuild(new_dataset=False, note=f"opened {source}")


def field_lr(setup: dict) -> float | None:
    """The learning rate a setup asks for (None when it is not a plain number)."""
    lr = session.get_field(setup, "training.optimizer.learning_rate")
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None


def run_app(preset: str | None = None, no_color: bool = False, served=None) -> int:
    """Open the playground (``nnplay`` / ``nnplay tui [PRESET]``); returns the exit status. ``served``: a
    :class:`~.served.ServedSession` (``nnplay serve`` starts one app like this per browser connection)."""
    setup = None
    if no_color:
        os.environ["NO_COLOR"] = "1"
    if served is not None:
        served.enter()
        try:
            return int(NnplayApp(served=served).run() or 0)
        finally:
            served.leave()
    saved = preset if preset and preset.endswith((".npz", ".keras")) else None
    if preset and not saved:
        setup = session.load_setup(preset)
    app = NnplayApp(setup, no_color=no_color, source=source_label(preset, setup) if setup else "")
    if saved:                    # a saved model opens over the default playground, read-only
        from nnplay.core.models import load_model
        app.opening = (load_model(saved, compile=False), saved)
    result = app.run()
    return int(result or 0)

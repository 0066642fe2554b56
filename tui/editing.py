"""The app's side of editing the setup: apply a change, check the stack, rebuild the experiment in a worker."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np

from textual import work

from nnplay.core.errors import NnplayError

from . import data, session, warmup
from .messages import (BuildFailed, Built, EditRequested, KernelsWarm, LayerEditRequested, SettingChanged,
                       StackChanged)
from .screens.prompts import ChoiceScreen, LayerScreen, ValueScreen
from .state import TRAINING_FIELDS, StackCheck, pace_limit
from .widgets.fields import FieldList
from .widgets.layer_stack import LayerStack



class EditingMixin:
    """Mixed into the app: owns ``self.setup`` changes and the build worker.

    Handlers use the ``on_<message>`` names: ``@on`` is only collected on Textual classes, not on mixins.
    """

    # ------------------------------------------------------------------ pushing the setup down
    def data_specs(self):
        try:
            specs = data.data_fields(self.setup["data"]["name"])
        except (NnplayError, KeyError):
            return ()
        if self.setup["data"].get("target") == "input" or self.setup.get("gan"):
            # an autoencoder or a GAN learns the images themselves: augmenting them is no option there
            specs = tuple(s for s in specs if s.key != "data.augment")
        return specs

    def show_setup(self) -> None:
        if not self.is_mounted_main():
            return
        specs = self.data_specs()
        main = self.screen_main()
        main.query_one("#data-fields", FieldList).set_data(specs, {s.key: self.data_value(s) for s in specs})
        values = {s.key: session.get_field(self.setup, s.key) for s in TRAINING_FIELDS}
        values["tui.pace"] = self.options.pace
        main.query_one("#train-fields", FieldList).set_data(TRAINING_FIELDS, values)
        main.query_one("#stack", LayerStack).set_data(self.setup["model"]["layers"], self.check)

    def data_value(self, spec):
        """The value of a data setting in use: the setup's, else the preset's seed (for ``data.seed``, as the
        build does), else the dataset's default."""
        value = session.get_field(self.setup, spec.key)
        if spec.key == "data.augment":
            return bool(value)
        if value is None and spec.key == "data.seed":
            value = self.setup.get("seed")
        return spec.default if value is None else value

    def recheck(self, layers=None) -> StackCheck:
        """The shape check of ``layers`` (default: the setup's) against the current data."""
        setup = self.setup if layers is None else {**self.setup, "model": {**self.setup["model"], "layers": layers}}
        shape = self.experiment.input_shape if self.experiment is not None else self.check.input_shape
        if not shape:
            return StackCheck(layers=[])
        check = session.check_stack(setup, shape, self.check_targets())
        check.base = self.check.base
        return check

    def check_targets(self):
        """A few of the targets the current experiment trains on (None for a GAN: its stack makes samples)."""
        exp = self.experiment
        y = exp.fit_kwargs.get("y") if exp is not None and exp.kind != "gan" else None
        return y[:8] if isinstance(y, np.ndarray) else None

    # ------------------------------------------------------------------ messages from the editors
    def on_setting_changed(self, event: SettingChanged) -> None:
        self.change_setting(event.key, event.value)

    def change_setting(self, key: str, value) -> None:
        if key == "tui.pace":        # a playground option, not part of the preset
            self.options = dataclasses.replace(self.options, pace=value)
            if self.loop is not None:
                self.loop.max_epochs_per_s = pace_limit(value)
            self.show_setup()
            return
        old_name = self.setup.get("data", {}).get("name")
        session.set_field(self.setup, key, value)
        if key == "training.optimizer.learning_rate":
            self.apply_learning_rate(float(value))
        elif key == "training.epochs":
            self.show_setup()
            if self.run_state.status == "ready" and self.experiment is not None:
                self.start_loop(initial_epoch=0, history=None)   # not started yet: take the new count now
        elif key.startswith("data."):
            self.rebuild(data_changed=True, new_dataset=key == "data.name" and value != old_name)
        else:
            self.rebuild(note=f"{key.split('.')[-1].replace('_', ' ')} changed")

    def on_edit_requested(self, event: EditRequested) -> None:
        spec = next((s for s in (*self.data_specs(), *TRAINING_FIELDS) if s.key == event.key), None)
        if spec is None:
            return
        current = self.options.pace if spec.key == "tui.pace" else self.data_value(spec) \
            if spec.key.startswith("data.") else session.get_field(self.setup, spec.key)
        done = lambda v: v is not None and self.change_setting(spec.key, v)  # noqa: E731
        if spec.kind == "choice" and spec.key != "data.features":
            self.push_screen(ChoiceScreen(spec.label, [(c, str(c)) for c in spec.choices], current), done)
        else:
            self.push_screen(ValueScreen(spec, current), done)

    def on_stack_changed(self, event: StackChanged) -> None:
        self.setup["model"]["layers"] = copy.deepcopy(event.layers)
        self.check = self.recheck()
        stack = self.screen_main().query_one("#stack", LayerStack)
        stack.set_data(self.setup["model"]["layers"], self.check)
        stack.cursor = event.cursor
        if self.check.error:
            self.stop_training()
            self.set_run_status("error", self.check.error)
        else:
            self.rebuild(note=event.note or "network changed")

    def on_layer_edit_requested(self, event: LayerEditRequested) -> None:
        self.push_screen(LayerScreen(self.setup["model"]["layers"], event.index, lambda layers: self.recheck(layers)))

    # ------------------------------------------------------------------ building
    def rebuild(self, *, data_changed: bool = False, new_dataset: bool = False, note: str = "") -> None:
        """Stop the run and build the setup again in a worker (fresh weights; data reloaded if it changed)."""
        self.stop_training()
        self.build_id += 1
        self.set_run_status("building", note)
        self.show_setup()
        prev_kind = data.dataset_kind(self.experiment.dataset) if self.experiment is not None else None
        self._build(copy.deepcopy(self.setup), self.build_id, new_dataset, prev_kind, self.warm_kernels)

    @work(thread=True, exclusive=True, group="build", exit_on_error=False)
    def _build(self, setup: dict, build_id: int, new_dataset: bool, prev_kind, warm: bool) -> None:
        notes: list[str] = []
        try:
            if new_dataset and not setup.get("gan"):   # a GAN's generator makes samples, not predictions
                ds = data.load_dataset(setup)

                def check(layers):
                    trial = {**setup, "model": {**setup["model"], "layers": layers}}
                    return session.check_stack(trial, ds.input_shape).error

                notes = data.adapt_to_dataset(setup, ds, prev_kind, check)
            exp = session.build_experiment(setup)
        except NnplayError as exc:
            self.post_message(BuildFailed(str(exc), build_id))
            return
        from nnplay.core.training.tiered import numpy_tier_enabled

        compiling = None
        if warm and numpy_tier_enabled():     # a cold start trains on NumPy while the kernels compile
            compiling = warmup.start(exp, self.post_message)
        elif warm:
            self.post_message(KernelsWarm(warmup.warm(exp)))
        self.post_message(Built(exp, setup, data_reused=not new_dataset, notes=notes, build_id=build_id,
                                compiling=compiling))

    def on_build_failed(self, event: BuildFailed) -> None:
        if event.build_id != self.build_id:
            return
        self.set_run_status("error", event.error)

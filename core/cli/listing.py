"""``nnplay list`` (shipped presets and built-in datasets) and ``nnplay show`` (a preset without training)."""
from __future__ import annotations

import sys

from ..experiments import Experiment, build_experiment
from ..presets import Preset, list_presets
from ..presets.toml_io import literal
from ..safety import sanitize
from .exits import EXIT_OK
from .reporters import _write
from .run import resolve


def cmd_list(args) -> int:
    what = getattr(args, "what", None)
    lines = []
    if what in (None, "presets"):
        items = list_presets()
        width = max((len(n) for n, _ in items), default=0)
        if what is None:
            lines.append("presets (nnplay run NAME):")
        lines += [f"{'  ' if what is None else ''}{n:<{width}}  {d}" for n, d in items]
    if what in (None, "datasets"):
        from ..datasets import list_datasets

        items = list_datasets()
        width = max((len(n) for n, _, _ in items), default=0)
        if what is None:
            lines.append("datasets ([data] name = NAME):")
        lines += [f"{'  ' if what is None else ''}{n:<{width}}  {kind:<8}  {d}" for n, d, kind in items]
    _write(sys.stdout, sanitize("\n".join(lines)) + "\n")
    return EXIT_OK


def describe_training(p: Preset, exp: Experiment) -> list[str]:
    tr = p.training
    opt = ", ".join(f"{k}={v}" for k, v in tr.optimizer.items() if k != "name")
    val = {"test": "the test split", "split": f"the last {tr.validation_split or 0.2:g} of the training data",
           "none": "nothing"}[tr.validation]
    lines = [f"loss {tr.loss}; metrics {', '.join(tr.metrics) or '(none)'}",
             f"optimizer {tr.optimizer.get('name')}({opt})",
             f"{tr.epochs} epochs of {exp.steps_per_epoch} batches of {tr.batch_size}"
             f"{', shuffled' if tr.shuffle else ''}; validation on {val}"]
    if tr.schedule:
        lines.append("schedule " + ", ".join(f"{k}={v}" for k, v in tr.schedule.items()))
    if tr.regularization:
        lines.append("regularization " + ", ".join(f"{k}={v}" for k, v in tr.regularization.items()))
    if tr.stop:
        lines.append("stop " + ", ".join(f"{k}={v}" for k, v in vars(tr.stop).items() if v is not None))
    if p.target:
        lines.append(f"target {p.target.describe()}")
    lines.append(f"memory {exp.memory.describe()}")
    return lines


def cmd_show(args) -> int:
    preset, runs = resolve(args)
    for _, variant in runs if preset.variants else ():
        build_experiment(variant, train_base=False)   # show only what would run: every variant must build
    p = preset
    exp = build_experiment(p, train_base=False)      # a [model.base] is built, not trained, to be shown
    ds = exp.dataset
    out = [f"{preset.name}", *(["", preset.description.strip()] if preset.description else []), "",
           f"data: {ds.description or ds.name}",
           f"      input {list(ds.input_shape)}, task {ds.task}, {ds.n_train} train / {ds.n_test} test", ""]
    out.append(exp.model.summary(print_fn=None))
    out += ["", "training:"] + [f"  {line}" for line in describe_training(p, exp)]
    if preset.variants:
        out += ["", "variants (each trains the preset with these overrides):"]
        for v in preset.variants:
            sets = ", ".join(f"{k} = {literal(v2)}" for k, v2 in v.set.items())
            out.append(f"  {v.name}: {sets}" + (f"  ({v.description})" if v.description else ""))
    _write(sys.stdout, sanitize("\n".join(out)) + "\n")       # names and descriptions come from the file
    return EXIT_OK

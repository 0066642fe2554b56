"""A compiled model's optimizer state split by weight, as file formats that store it per variable (Keras'
``.keras``) need it, and back. nnplay's optimizers keep their state as flat buffers over the model's
trainable weights (see :meth:`Model._bind <.model.Model._bind>`)."""
from __future__ import annotations

import numpy as np

from ..optimizers.schedules import LearningRateSchedule


def optimizer_slots(model) -> dict:
    """The optimizer's state split by weight, for file formats that store it per variable (Keras):
    ``{"iterations", "learning_rate" (the constant rate, or None under a schedule), "slots": {slot name:
    [array shaped like the weight, or None for a weight training does not update], in get_weights()
    order}, "extra": {scalar state such as Nadam's u_product}}``."""
    opt = model.optimizer
    state = opt.get_state()
    trainable = {(id(o), n) for o, n in model.trainable_weights()}
    where = {key: model._segments[i] for key, i in model._slot_index.items()}
    slots = {}
    for name, flat in state.items():
        if name == "iterations" or np.ndim(flat) != 1:
            continue
        per = []
        for owner, n in model.all_weights():
            key = (id(owner), n)
            if key in trainable and key in where:
                off, size = where[key]
                per.append(np.asarray(flat[off:off + size]).reshape(owner.weight(n).shape).copy())
            else:
                per.append(None)
        slots[name] = per
    extra = {k: float(v) for k, v in state.items() if k != "iterations" and np.ndim(v) == 0}
    lr = None if isinstance(opt.learning_rate, LearningRateSchedule) else float(opt.learning_rate)
    return {"iterations": int(state["iterations"]), "learning_rate": lr, "slots": slots, "extra": extra}


def set_optimizer_slots(model, state: dict) -> None:
    """Load :func:`optimizer_slots`-shaped state into a compiled model's optimizer (weights without an
    array keep their fresh slots)."""
    opt = model.optimizer
    fresh = opt.get_state()
    where = {key: model._segments[i] for key, i in model._slot_index.items()}
    flat_state = {"iterations": np.array(state["iterations"], dtype=np.int64)}
    for name, flat in fresh.items():
        if name == "iterations" or np.ndim(flat) != 1:
            continue
        flat = np.array(flat)
        for (owner, n), value in zip(model.all_weights(), state["slots"].get(name, [])):
            if value is not None and (id(owner), n) in where:
                off, size = where[(id(owner), n)]
                flat[off:off + size] = np.asarray(value, dtype=flat.dtype).ravel()
        flat_state[name] = flat
    flat_state.update({k: np.array(v) for k, v in state.get("extra", {}).items()})
    opt.set_state(flat_state)
    if state.get("learning_rate") is not None and not isinstance(opt.learning_rate, LearningRateSchedule):
        opt.learning_rate = state["learning_rate"]

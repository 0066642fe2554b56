"""Training as a generator of events: the :class:`Trainer`, its events and controls, and the callbacks.

Nothing here knows a model class: a trainer drives any compiled nnplay model through its ``train_step``,
``evaluate_prepared`` and ``check_data``, so ``models`` can build ``fit`` on it.
"""
from .callbacks import History
from .controls import LR_MAX, LR_MIN, TrainingControls, clamp_learning_rate
from .events import BatchEnded, Diverged, EpochEnded, Event, Finished, Paused, Resumed, TrainingStarted
from .trainer import Trainer, run_fit

__all__ = ["History", "LR_MAX", "LR_MIN", "TrainingControls", "clamp_learning_rate", "BatchEnded", "Diverged",
           "EpochEnded", "Event", "Finished", "Paused", "Resumed", "TrainingStarted", "Trainer", "run_fit"]

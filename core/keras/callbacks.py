"""``keras.callbacks``."""
from nnplay.core.training.callbacks import (Callback, CSVLogger, EarlyStopping, History, LambdaCallback,
                                            LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau,
                                            TerminateOnNaN)

__all__ = ["Callback", "CSVLogger", "EarlyStopping", "History", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau", "TerminateOnNaN"]

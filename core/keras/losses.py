"""``keras.losses``: the loss classes, and Keras' loss functions ``fn(y_true, y_pred)`` giving one value per
sample."""
import numpy as np

from nnplay.core.losses import (MAE, MSE, BinaryCrossentropy, CategoricalCrossentropy, Hinge, Huber, LogCosh,
                                Loss, MeanAbsoluteError, MeanSquaredError, SparseCategoricalCrossentropy,
                                SquaredHinge, get)


def _per_sample(cls):
    def fn(y_true, y_pred):
        loss = cls()
        y_pred = np.asarray(y_pred, dtype=np.float64)
        return loss.per_sample(loss.prepare_targets(np.asarray(y_true), y_pred.shape), y_pred)

    fn.__name__ = cls.name
    fn.__doc__ = f"Keras' ``{cls.name}(y_true, y_pred)``: the {cls.__name__} of each sample."
    return fn


mean_squared_error = mse = _per_sample(MeanSquaredError)
mean_absolute_error = mae = _per_sample(MeanAbsoluteError)
binary_crossentropy = _per_sample(BinaryCrossentropy)
categorical_crossentropy = _per_sample(CategoricalCrossentropy)
sparse_categorical_crossentropy = _per_sample(SparseCategoricalCrossentropy)
huber = _per_sample(Huber)
log_cosh = _per_sample(LogCosh)
hinge = _per_sample(Hinge)
squared_hinge = _per_sample(SquaredHinge)

__all__ = ["MAE", "MSE", "BinaryCrossentropy", "CategoricalCrossentropy", "Hinge", "Huber", "LogCosh", "Loss",
           "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy", "SquaredHinge", "get",
           "mean_squared_error", "mse", "mean_absolute_error", "mae", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "huber", "log_cosh", "hinge",
           "squared_hinge"]

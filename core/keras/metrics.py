"""``keras.metrics``: streaming metrics (``update_state``, ``result``, ``reset_state``), as Keras names them."""
from nnplay.core.metrics import (BinaryAccuracy, CategoricalAccuracy, F1Score, MeanAbsoluteError,
                                 MeanSquaredError, Metric, Precision, R2Score, Recall, RootMeanSquaredError,
                                 SparseCategoricalAccuracy, get)

__all__ = ["BinaryAccuracy", "CategoricalAccuracy", "F1Score", "MeanAbsoluteError", "MeanSquaredError", "Metric",
           "Precision", "R2Score", "Recall", "RootMeanSquaredError", "SparseCategoricalAccuracy", "get"]

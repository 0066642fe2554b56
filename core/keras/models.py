"""``keras.models``: Sequential, the functional Model, loading and cloning."""
from nnplay.core.models import Model, Sequential, clone_model, load_model
from nnplay.core.models.saving import save_model

__all__ = ["Model", "Sequential", "clone_model", "load_model", "save_model"]

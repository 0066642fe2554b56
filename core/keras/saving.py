"""``keras.saving``: load and save models."""
from nnplay.core.models import load_model
from nnplay.core.models.saving import save_model

__all__ = ["load_model", "save_model"]

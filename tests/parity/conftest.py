"""Parity tests compare nnplay with real Keras 3.15 on its torch CPU backend (``pip install -e ".[parity]"``);
each module skips itself where Keras is not installed."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

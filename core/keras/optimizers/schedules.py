"""``keras.optimizers.schedules``: learning-rate schedules."""
from nnplay.core.optimizers.schedules import *  # noqa: F401,F403
from nnplay.core.optimizers.schedules import __all__  # noqa: F401

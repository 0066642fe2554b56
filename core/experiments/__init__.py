"""Experiments: a preset turned into something to train, of any kind (plain, autoencoder, GAN), behind one
interface (:class:`Experiment`); :func:`build_experiment` is the one place that builds them."""
from .autoencoder import AutoencoderExperiment
from .base import Experiment
from .build import build_experiment, layer_configs, load_data
from .gan import GANExperiment

__all__ = ["Experiment", "AutoencoderExperiment", "GANExperiment", "build_experiment", "layer_configs",
           "load_data"]

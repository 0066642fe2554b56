"""One interface for every kind of experiment a preset builds, and the trainer as the one owner of the live
learning rate (held to one range)."""
import numpy as np
import pytest

from nnplay.core.errors import NnplayError
from nnplay.core.experiments import AutoencoderExperiment, Experiment, GANExperiment, build_experiment
from nnplay.core.models.gan import GANTrainer
from nnplay.core.presets import apply_overrides, load_preset
from nnplay.core.training import LR_MAX, LR_MIN, Trainer, clamp_learning_rate


def small(name, **sets):
    return build_experiment(apply_overrides(load_preset(name), {"training.epochs": 2, **sets}))


@pytest.mark.parametrize("name, kind, cls", [("xor", "plain", Experiment), ("autoencoder", "autoencoder",
                                                                            AutoencoderExperiment),
                                             ("gan-ring", "gan", GANExperiment)])
def test_every_kind_answers_the_same_calls(name, kind, cls):
    exp = small(name)
    assert type(exp) is cls and exp.kind == kind and exp.epochs == 2
    assert exp.warm_up() >= 0.0
    trainer = exp.trainer(epochs=1)
    events = list(trainer.run())
    assert events[-1].reason == "completed" and len(trainer.history.epoch) == 1
    metrics = exp.evaluate(trainer)
    assert metrics and all(np.isfinite(v) for v in metrics.values())
    assert isinstance(exp.render(), str) and (kind == "plain") == (exp.render() == "")
    assert exp.target_met(metrics) in (True, False)


def test_a_plain_experiment_continues_the_same_weights():
    exp = small("xor")
    first = exp.trainer(epochs=1)
    list(first.run())
    weights = exp.model.get_weights()
    again = exp.trainer(initial_epoch=1, epochs=2)
    assert isinstance(again, Trainer) and again.initial_epoch == 1 and again.epochs == 2
    events = list(again.run())
    assert [e.epoch for e in events if type(e).__name__ == "EpochEnded"] == [1]
    assert any(not np.array_equal(a, b) for a, b in zip(weights, exp.model.get_weights()))


def test_a_gan_experiment_continues_its_players_and_restarts_with_fresh_ones():
    exp = small("gan-ring")
    assert exp.input_shape == (8,)
    built = exp.gan
    start = built.generator.get_weights()
    first = exp.trainer(epochs=1)
    assert first is built and exp.model is built.generator          # the players built with the experiment
    list(first.run())
    trained = built.generator.get_weights()
    cont = exp.trainer(initial_epoch=1, epochs=2)
    assert cont is built and (cont.initial_epoch, cont.epochs) == (1, 2)
    fresh = exp.trainer()
    assert isinstance(fresh, GANTrainer) and fresh is not built and exp.model is fresh.generator
    # fresh players are seeded as the preset says: the same start as the first run had, not its end
    for a, b in zip(start, fresh.generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(trained, start))


def test_the_trainer_owns_the_live_learning_rate_within_one_range():
    exp = small("xor")
    trainer = exp.trainer()
    start = trainer.learning_rate
    assert start == exp.model.optimizer.current_learning_rate()
    assert trainer.set_learning_rate(start * 2) == pytest.approx(start * 2)
    assert trainer.learning_rate == pytest.approx(start * 2)          # requested: reported before the batch
    assert exp.model.optimizer.current_learning_rate() == start       # applied between batches, not now
    trainer.step()
    next(e for e in trainer.run() if type(e).__name__ == "BatchEnded")
    assert exp.model.optimizer.current_learning_rate() == pytest.approx(start * 2)
    assert trainer.set_learning_rate(1e9) == LR_MAX and trainer.set_learning_rate(1e-12) == LR_MIN
    assert clamp_learning_rate(0.012345) == 0.0123
    with pytest.raises(NnplayError, match="learning_rate"):
        trainer.set_learning_rate(float("nan"))
    trainer.stop()


def test_a_gan_trainer_sets_both_players_rates():
    exp = small("gan-ring")
    gan = exp.trainer(epochs=1)
    gan.set_learning_rate(0.004)
    gan.step()
    next(e for e in gan.run() if type(e).__name__ == "GANBatchEnded")
    assert gan.combined.optimizer.current_learning_rate() == pytest.approx(0.004)
    assert gan.discriminator.optimizer.current_learning_rate() == pytest.approx(0.004)
    assert gan.learning_rate == pytest.approx(0.004)
    gan.stop()

"""Trainer events and requests (pause, step, stop, live learning rate), divergence, and callbacks."""
import threading

import numpy as np
import pytest

from nnplay.core import Sequential
from nnplay.core.training.callbacks import (CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                                   ReduceLROnPlateau, StopAtTarget)
from nnplay.core.layers import Dense
from nnplay.core.optimizers import SGD, Adam
from nnplay.core.training import (BatchEnded, Diverged, EpochEnded, Finished, Paused, Resumed, Trainer,
                                 TrainingStarted)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def model(lr=0.05, opt=None):
    m = Sequential([Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0)
    m.compile(optimizer=opt or Adam(lr), loss="binary_crossentropy", metrics=["accuracy"])
    return m


def test_event_stream_shape():
    x, y = data()
    t = Trainer(model(), x, y, epochs=2, batch_size=16, validation_data=data(32, 1))
    events = list(t.run())
    assert isinstance(events[0], TrainingStarted) and events[0].steps_per_epoch == 4
    assert isinstance(events[-1], Finished) and events[-1].reason == "completed" and events[-1].epochs_run == 2
    batches = [e for e in events if isinstance(e, BatchEnded)]
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert len(batches) == 8 and [b.batch for b in batches[:4]] == [0, 1, 2, 3]
    assert batches[-1].iteration == 8
    assert set(epochs[0].logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # the epoch loss is the sample-weighted mean of the batch losses
    assert epochs[0].logs["loss"] == pytest.approx(np.mean([b.batch_loss for b in batches[:4]]))


def test_pause_step_resume_stop_and_live_learning_rate():
    x, y = data()
    t = Trainer(model(), x, y, epochs=50, batch_size=16)
    gen = t.run()
    assert isinstance(next(gen), TrainingStarted)
    t.pause()
    assert isinstance(next(gen), Paused)
    # a single step from another thread: exactly one batch, then paused again
    threading.Timer(0.05, t.step).start()
    assert isinstance(next(gen), Resumed)
    ev = next(gen)
    assert isinstance(ev, BatchEnded) and ev.batch == 0
    assert isinstance(next(gen), Paused)
    t.set_learning_rate(0.5)
    threading.Timer(0.05, t.resume).start()
    assert isinstance(next(gen), Resumed)
    ev = next(gen)
    assert isinstance(ev, BatchEnded) and ev.learning_rate == pytest.approx(0.5)
    t.stop()
    rest = list(gen)
    assert isinstance(rest[-1], Finished) and rest[-1].reason == "stopped"


def test_stop_while_paused_finishes_promptly():
    x, y = data()
    t = Trainer(model(), x, y, epochs=5, batch_size=16)
    gen = t.run()
    next(gen)
    t.pause()
    assert isinstance(next(gen), Paused)
    threading.Timer(0.05, t.stop).start()
    assert isinstance(list(gen)[-1], Finished)


def test_divergence_names_a_layer_and_keeps_finite_weights():
    x, y = data()
    x = x * 1e3
    m = Sequential([Dense(16, activation="relu", input_shape=(2,)), Dense(1)], seed=0)
    m.compile(optimizer=SGD(10.0), loss="mse")
    t = Trainer(m, x, y.astype(np.float32), epochs=20, batch_size=8)
    events = list(t.run())
    div = [e for e in events if isinstance(e, Diverged)]
    assert div, "a learning rate of 10 on unscaled data must blow up"
    assert "diverged at epoch" in div[0].message and "learning rate" in div[0].message
    assert events[-1].reason == "diverged"
    assert all(np.isfinite(w).all() for w in m.get_weights())


def test_early_stopping_restores_best_weights():
    x, y = data()
    m = model(lr=0.05)
    es = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = m.fit(x, y, epochs=200, batch_size=64, validation_data=(x[:8], 1 - y[:8]), callbacks=[es], verbose=0)
    assert len(hist.epoch) < 200                     # stopped early: validation targets are inverted
    best = int(np.argmin(hist.history["val_loss"]))
    assert es.best == pytest.approx(hist.history["val_loss"][best])
    assert m.evaluate(x[:8], 1 - y[:8])[0] == pytest.approx(es.best, rel=1e-5)


def test_stop_at_target_and_reduce_lr_on_plateau():
    x, y = data(256)
    m = model(lr=0.05)
    hist = m.fit(x, y, epochs=500, batch_size=32, callbacks=[StopAtTarget("accuracy", 0.9)], verbose=0)
    assert hist.history["accuracy"][-1] >= 0.9 and len(hist.epoch) < 500
    m2 = model(opt=SGD(0.1))
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)  # never "improves"
    m2.fit(x, y, epochs=4, batch_size=256, callbacks=[plateau], verbose=0)
    assert m2.optimizer.current_learning_rate() == pytest.approx(0.1 * 0.5 ** 3)


def test_learning_rate_scheduler_callback():
    x, y = data()
    m = model(opt=SGD(0.1))
    m.fit(x, y, epochs=3, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))], verbose=0)
    assert m.optimizer.current_learning_rate() == pytest.approx(0.1 / 3)


def test_csv_logger_and_checkpoint_write_complete_files(tmp_path):
    x, y = data()
    m = model()
    m.fit(x, y, epochs=3, validation_data=data(16, 2),
          callbacks=[CSVLogger(tmp_path / "h.csv"), ModelCheckpoint(str(tmp_path / "ck-{epoch}.npz"))], verbose=0)
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy" and len(lines) == 4
    assert sorted(p.name for p in tmp_path.glob("ck-*.npz")) == ["ck-1.npz", "ck-2.npz", "ck-3.npz"]
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_training_arguments():
    from nnplay.core.errors import NnplayError
    x, y = data()
    m = model()
    with pytest.raises(NnplayError, match="batch_size"):
        m.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(NnplayError, match="epochs"):
        m.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(NnplayError, match="validation_split"):
        m.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(NnplayError, match="monitors 'val_acc'"):
        m.fit(x, y, epochs=2, callbacks=[EarlyStopping(monitor="val_acc")], verbose=0)

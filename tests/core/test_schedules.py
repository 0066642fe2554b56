"""Learning-rate schedules against their formulas (written out here) and hand-worked values."""
import math

import pytest

from nnplay.core.optimizers import schedules
from nnplay.core.errors import NnplayError
from nnplay.core.optimizers.schedules import (CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay,
                                   PiecewiseConstantDecay, PolynomialDecay, StepDecay)

STEPS = [0, 1, 7, 10, 15, 20, 33, 99, 100, 250]


def close(a, b):
    return a == pytest.approx(b, rel=1e-12, abs=1e-15)


def test_exponential_decay():
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    for k in STEPS:
        assert close(s(k), 0.1 * 0.5 ** (k / 10))
    st = ExponentialDecay(0.1, 10, 0.5, staircase=True)
    for k in STEPS:
        assert close(st(k), 0.1 * 0.5 ** (k // 10))
    assert close(s(10), 0.05) and close(st(19), 0.05) and close(st(20), 0.025)


def test_piecewise_constant_decay_boundaries_belong_to_the_left_piece():
    s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 9: 1.0, 10: 1.0, 11: 0.5, 20: 0.5, 21: 0.1, 1000: 0.1}
    assert {k: s(k) for k in expected} == expected


def test_polynomial_decay():
    s = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01, power=0.5)
    for k in STEPS:
        step = min(k, 100)
        assert close(s(k), (0.1 - 0.01) * (1 - step / 100) ** 0.5 + 0.01)
    assert close(s(100), 0.01) and close(s(500), 0.01)
    assert close(PolynomialDecay(1.0, 10)(5), (1.0 - 0.0001) * 0.5 + 0.0001)   # Keras' defaults
    c = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, power=1.0, cycle=True)
    # cycle: the horizon is the first multiple of decay_steps >= step (1x at step 0)
    assert [c(k) for k in (0, 5, 10)] == [1.0, 0.5, 0.0]
    assert close(c(15), 1 - 15 / 20) and close(c(20), 0.0) and close(c(25), 1 - 25 / 30)


def test_inverse_time_decay():
    s = InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
    for k in STEPS:
        assert close(s(k), 0.1 / (1 + 0.5 * k / 10))
    st = InverseTimeDecay(0.1, 10, 0.5, staircase=True)
    for k in STEPS:
        assert close(st(k), 0.1 / (1 + 0.5 * (k // 10)))


def test_cosine_decay():
    s = CosineDecay(0.2, decay_steps=100, alpha=0.1)
    for k in STEPS:
        step = min(k, 100)
        assert close(s(k), 0.2 * (0.9 * 0.5 * (1 + math.cos(math.pi * step / 100)) + 0.1))
    plain = CosineDecay(1.0, 100)
    assert plain(0) == 1.0 and close(plain(50), 0.5) and close(plain(100), 0.0) and close(plain(300), 0.0)


def test_cosine_decay_with_warmup():
    s = CosineDecay(0.0, decay_steps=100, warmup_target=1.0, warmup_steps=10)
    assert s(0) == 0.0 and close(s(5), 0.5) and close(s(10), 1.0)
    assert close(s(60), 0.5) and close(s(110), 0.0) and close(s(500), 0.0)
    w = CosineDecay(0.1, decay_steps=50, alpha=0.2, warmup_target=0.5, warmup_steps=20)
    for k in (0, 3, 19):
        assert close(w(k), 0.1 + (0.5 - 0.1) * k / 20)
    for k in (20, 31, 70, 200):
        d = min(k, 70) - 20
        assert close(w(k), 0.5 * (0.8 * 0.5 * (1 + math.cos(math.pi * d / 50)) + 0.2))


def sgdr(step, lr, first, t_mul, m_mul, alpha):
    """Walk the periods one by one (independent of the closed form in the code)."""
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start += length
        length *= t_mul
        i += 1
    frac = (step - start) / length
    return lr * ((1 - alpha) * 0.5 * m_mul ** i * (1 + math.cos(math.pi * frac)) + alpha)


def test_cosine_decay_restarts():
    s = CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=2.0, m_mul=0.5)
    # periods [0, 10), [10, 30), [30, 70), [70, 150): each restart halves the peak
    assert s(0) == 1.0 and close(s(5), 0.5)
    assert close(s(10), 0.5) and close(s(20), 0.25) and close(s(30), 0.25) and close(s(70), 0.125)
    for k in list(range(0, 160)) + [1000, 10_000, 12_345]:
        assert close(s(k), sgdr(k, 1.0, 10, 2.0, 0.5, 0.0)), k
    a = CosineDecayRestarts(0.3, 7, t_mul=1.0, m_mul=0.9, alpha=0.1)
    for k in range(0, 60):
        assert close(a(k), sgdr(k, 0.3, 7, 1.0, 0.9, 0.1)), k
    b = CosineDecayRestarts(0.3, 3, t_mul=3.0, alpha=0.05)
    for k in range(0, 400):
        assert close(b(k), sgdr(k, 0.3, 3, 3.0, 1.0, 0.05)), k


def test_step_decay():
    s = StepDecay(0.1, drop=0.5, every=10)
    for k in STEPS:
        assert close(s(k), 0.1 * 0.5 ** (k // 10))
    assert s(9) == 0.1 and close(s(10), 0.05)
    assert "not a Keras class" in StepDecay.__doc__


@pytest.mark.parametrize("sched", [ExponentialDecay(0.1, 10, 0.5, staircase=True),
                                   PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
                                   PolynomialDecay(0.1, 100, 0.01, 2.0, cycle=True),
                                   InverseTimeDecay(0.1, 10, 0.5),
                                   CosineDecay(0.0, 100, 0.1, warmup_target=0.5, warmup_steps=5),
                                   CosineDecayRestarts(0.1, 10, 1.5, 0.8, 0.05),
                                   StepDecay(0.1, 0.5, 10)])
def test_config_round_trip(sched):
    cfg = sched.get_config()
    assert isinstance(cfg["type"], str) and None not in cfg.values()
    again = schedules.get(cfg)
    assert type(again) is type(sched) and again.get_config() == cfg
    assert [again(k) for k in STEPS] == [sched(k) for k in STEPS]
    assert schedules.get(sched) is sched


def test_get_reads_keras_serialized_form():
    s = schedules.get({"class_name": "ExponentialDecay",
                       "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                                  "staircase": False, "name": "ExponentialDecay"}})
    assert isinstance(s, ExponentialDecay) and close(s(10), 0.05)
    assert isinstance(schedules.get({"type": "CosineDecay", "initial_learning_rate": 0.1, "decay_steps": 5}),
                      CosineDecay)


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.get({"type": "cosine_decy", "initial_learning_rate": 0.1, "decay_steps": 10}),
     "did you mean 'cosine_decay'"),
    (lambda: schedules.get({"type": "cosine_decay", "initial_learning_rate": 0.1}), "missing argument(s) decay_steps"),
    (lambda: schedules.get({"type": "cosine_decay", "initial_learning_rate": 0.1, "decay_step": 10}),
     "unknown argument 'decay_step' (did you mean 'decay_steps'?)"),
    (lambda: schedules.get({"initial_learning_rate": 0.1}), "needs a 'type'"),
    (lambda: schedules.get("exponential_decay"), "needs arguments"),
    (lambda: ExponentialDecay(0.1, 0, 0.5), "ExponentialDecay: decay_steps must be > 0, got decay_steps=0"),
    (lambda: ExponentialDecay(-0.1, 10, 0.5), "initial_learning_rate must be > 0, got initial_learning_rate=-0.1"),
    (lambda: ExponentialDecay(0.1, 10, 0.5, staircase="no"), "staircase must be True or False"),
    (lambda: PiecewiseConstantDecay([10, 20], [1.0, 0.5]), "one more entry than boundaries"),
    (lambda: PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]), "increase strictly"),
    (lambda: PolynomialDecay(0.1, 10, power=-1), "power must be > 0, got power=-1"),
    (lambda: CosineDecay(0.1, 10, alpha=1.5), "CosineDecay: alpha must be in [0, 1], got alpha=1.5"),
    (lambda: CosineDecay(0.1, 10, warmup_steps=-3), "warmup_steps must be >= 0, got warmup_steps=-3"),
    (lambda: CosineDecayRestarts(0.1, 10, t_mul=0.5), "t_mul must be >= 1, got t_mul=0.5"),
    (lambda: StepDecay(0.1, drop=1.5, every=10), "StepDecay: drop must be in (0, 1], got drop=1.5"),
    (lambda: StepDecay(0.1, drop=0.5, every=0), "every must be a whole number of steps >= 1, got every=0"),
])
def test_bad_arguments(make, match):
    with pytest.raises(NnplayError) as exc:
        make()
    assert match in str(exc.value)

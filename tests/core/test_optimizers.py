"""Optimizers against independent textbook references, hand-computed numbers, clipping, state and errors.

The reference implementations below are written from the papers / Keras docs as plain numpy, one step
at a time, and deliberately in a different (but equivalent) form from the kernels where one exists, e.g.
Adam with explicit bias-corrected ``m_hat``/``v_hat`` and Nadam with the momentum-schedule products
recomputed from scratch every step.
"""
import io
import math

import numpy as np
import pytest

from nnplay.core import optimizers
from nnplay.core.optimizers import schedules
from nnplay.core.errors import NnplayError
from nnplay.core.kernels import optim as K
from nnplay.core.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

P0 = np.array([1.0, -2.0, 0.5, 3.0, -0.25])
SCALE = np.array([1.0, 0.5, 2.0, 0.1, 4.0])


def grad_at(p, t):
    """A gradient that depends on the parameters and the step, so errors compound across steps."""
    return SCALE * (p - 0.3) + 0.2 * np.cos(t + np.arange(p.size))


def run(opt, steps=4, dtype=np.float64, p0=P0):
    p = p0.astype(dtype).copy()
    opt.build([(0, 2), (2, 3)], p.size, dtype)
    for t in range(steps):
        g = grad_at(p.astype(np.float64), t).astype(dtype)
        opt.apply(p, g)
    return p


def run_ref(update, steps=4, p0=P0):
    p = p0.copy()
    state = {}
    for t in range(steps):
        p = update(p, grad_at(p, t), t + 1, state)
    return p


# --------------------------------------------------------------------------------- references
def ref_sgd(lr, momentum=0.0, nesterov=False):
    def update(p, g, t, s):
        if momentum == 0:
            return p - lr * g
        v = s.get("v", np.zeros_like(p))
        v = momentum * v - lr * g
        s["v"] = v
        return p + (momentum * v - lr * g if nesterov else v)
    return update


def ref_rmsprop(lr, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def update(p, g, t, s):
        ms = s["ms"] = rho * s.get("ms", np.zeros_like(p)) + (1 - rho) * g ** 2
        if centered:
            mg = s["mg"] = rho * s.get("mg", np.zeros_like(p)) + (1 - rho) * g
            step = lr * g / np.sqrt(ms - mg ** 2 + eps)
        else:
            step = lr * g / np.sqrt(ms + eps)
        if momentum > 0:
            step = s["mom"] = momentum * s.get("mom", np.zeros_like(p)) + step
        return p - step
    return update


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, weight_decay=0.0):
    """Kingma & Ba, Algorithm 1 with bias-corrected moments. Keras' epsilon is the paper's "epsilon hat"
    (added to sqrt(v) before the bias correction), i.e. eps / sqrt(1 - b2^t) in this form."""
    def update(p, g, t, s):
        p = p - lr * weight_decay * p
        m = s["m"] = b1 * s.get("m", np.zeros_like(p)) + (1 - b1) * g
        v = s["v"] = b2 * s.get("v", np.zeros_like(p)) + (1 - b2) * g * g
        if amsgrad:
            v = s["vmax"] = np.maximum(s.get("vmax", np.zeros_like(p)), v)
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - b2 ** t))
    return update


def ref_adagrad(lr, init=0.1, eps=1e-7):
    def update(p, g, t, s):
        acc = s["acc"] = s.get("acc", np.full_like(p, init)) + g * g
        return p - lr * g / np.sqrt(acc + eps)
    return update


def ref_adadelta(lr, rho=0.95, eps=1e-7):
    """Zeiler 2012, Algorithm 1, with Keras' extra learning-rate factor."""
    def update(p, g, t, s):
        eg2 = s["eg2"] = rho * s.get("eg2", np.zeros_like(p)) + (1 - rho) * g * g
        dx = -np.sqrt(s.get("edx2", np.zeros_like(p)) + eps) / np.sqrt(eg2 + eps) * g
        s["edx2"] = rho * s.get("edx2", np.zeros_like(p)) + (1 - rho) * dx * dx
        return p + lr * dx
    return update


def ref_nadam(lr, b1=0.9, b2=0.999, eps=1e-7):
    """Dozat 2016 with Keras' schedule mu_t = b1 * (1 - 0.5 * 0.96**t); products recomputed each step."""
    def mu(i):
        return b1 * (1 - 0.5 * 0.96 ** i)

    def update(p, g, t, s):
        m = s["m"] = b1 * s.get("m", np.zeros_like(p)) + (1 - b1) * g
        v = s["v"] = b2 * s.get("v", np.zeros_like(p)) + (1 - b2) * g * g
        prod_t = np.prod([mu(i) for i in range(1, t + 1)])
        prod_next = prod_t * mu(t + 1)
        m_hat = mu(t + 1) * m / (1 - prod_next) + (1 - mu(t)) * g / (1 - prod_t)
        v_hat = v / (1 - b2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


CASES = [
    ("sgd", lambda: SGD(0.1), ref_sgd(0.1)),
    ("sgd-momentum", lambda: SGD(0.1, momentum=0.9), ref_sgd(0.1, 0.9)),
    ("sgd-nesterov", lambda: SGD(0.1, momentum=0.9, nesterov=True), ref_sgd(0.1, 0.9, True)),
    ("rmsprop", lambda: RMSprop(0.01), ref_rmsprop(0.01)),
    ("rmsprop-centered", lambda: RMSprop(0.01, centered=True), ref_rmsprop(0.01, centered=True)),
    ("rmsprop-centered-momentum", lambda: RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-4, centered=True),
     ref_rmsprop(0.01, 0.8, 0.5, 1e-4, True)),
    ("adam", lambda: Adam(0.05), ref_adam(0.05)),
    ("adam-eps", lambda: Adam(0.05, beta_1=0.5, beta_2=0.7, epsilon=0.1), ref_adam(0.05, 0.5, 0.7, 0.1)),
    ("adam-amsgrad", lambda: Adam(0.05, amsgrad=True), ref_adam(0.05, amsgrad=True)),
    # a short beta_2 memory lets v fall between steps, so the running max matters
    ("adam-amsgrad-fast-v", lambda: Adam(0.3, beta_2=0.5, amsgrad=True), ref_adam(0.3, b2=0.5, amsgrad=True)),
    ("adamw", lambda: AdamW(0.05), ref_adam(0.05, weight_decay=0.004)),
    ("adamw-strong", lambda: AdamW(0.05, weight_decay=0.5), ref_adam(0.05, weight_decay=0.5)),
    ("adagrad", lambda: Adagrad(0.1), ref_adagrad(0.1)),
    ("adagrad-init", lambda: Adagrad(0.1, initial_accumulator_value=2.0, epsilon=1e-3), ref_adagrad(0.1, 2.0, 1e-3)),
    ("adadelta", lambda: Adadelta(1.0), ref_adadelta(1.0)),
    ("adadelta-rho", lambda: Adadelta(0.5, rho=0.8, epsilon=1e-6), ref_adadelta(0.5, 0.8, 1e-6)),
    ("nadam", lambda: Nadam(0.05), ref_nadam(0.05)),
    ("nadam-betas", lambda: Nadam(0.05, beta_1=0.5, beta_2=0.67, epsilon=1e-5), ref_nadam(0.05, 0.5, 0.67, 1e-5)),
]


@pytest.mark.parametrize("name, make, ref", CASES, ids=[c[0] for c in CASES])
def test_matches_textbook_reference_float64(name, make, ref):
    for steps in (1, 2, 5):
        got = run(make(), steps)
        want = run_ref(ref, steps)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13, err_msg=f"{name}, {steps} steps")
    assert not np.allclose(run(make(), 5), P0)            # it moved


@pytest.mark.parametrize("name, make, ref", CASES, ids=[c[0] for c in CASES])
def test_float32_tracks_float64(name, make, ref):
    opt = make()
    got = run(opt, 5, np.float32)
    assert got.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.get_state().items() if k not in ("iterations", "u_product"))
    np.testing.assert_allclose(got, run_ref(ref, 5), rtol=2e-5, atol=2e-6)


def test_weight_decay_on_the_base_applies_to_every_optimizer():
    # Keras: p -= p * weight_decay * lr before the update; with a zero gradient only the decay acts
    for cls in (SGD, RMSprop, Adam, Adagrad, Adadelta, Nadam, AdamW):
        opt = cls(learning_rate=0.5, weight_decay=0.1)
        p = np.array([2.0, -4.0])
        opt.build([(0, 2)], 2, np.float64)
        opt.apply(p, np.zeros(2))
        opt.apply(p, np.zeros(2))
        np.testing.assert_allclose(p, [2.0 * 0.95 ** 2, -4.0 * 0.95 ** 2], rtol=1e-14, err_msg=cls.__name__)
    # and the decay uses the learning rate in effect (a schedule evaluated at the step)
    sched = schedules.PiecewiseConstantDecay([0], [1.0, 0.1])
    opt = SGD(sched, weight_decay=0.5)
    p = np.array([1.0])
    opt.build([(0, 1)], 1, np.float64)
    opt.apply(p, np.zeros(1))
    opt.apply(p, np.zeros(1))
    np.testing.assert_allclose(p, [1.0 * 0.5 * 0.95])


# --------------------------------------------------------------------------------- hand-computed numbers
def test_adam_first_steps_by_hand():
    """lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, p0=[1, -2], g1=[0.5, -1], g2=[0.1, 0.3].

    Step 1: m=[0.05, -0.1], v=[0.00025, 0.001], alpha = 0.1*sqrt(0.001)/0.1 = 0.0316227766;
            p -= alpha*m/(sqrt(v)+1e-7): the step is lr*sign(g)*(1 - 1e-7/sqrt(v)).
    Step 2: m=[0.055, -0.06], v=[0.00025975, 0.001089], alpha = 0.1*sqrt(0.001999)/0.19 = 0.0235316725.
    (Values worked out with 40-digit decimals.)
    """
    opt = Adam(learning_rate=0.1)
    p = np.array([1.0, -2.0])
    opt.build([(0, 2)], 2, np.float64)
    opt.apply(p, np.array([0.5, -1.0]))
    np.testing.assert_allclose(p, [0.90000063245153206, -1.9000003162267660], rtol=0, atol=1e-14)
    state = opt.get_state()
    np.testing.assert_allclose(state["momentum"], [0.05, -0.1], rtol=1e-15)
    np.testing.assert_allclose(state["velocity"], [0.00025, 0.001], rtol=1e-15)
    opt.apply(p, np.array([0.1, 0.3]))
    np.testing.assert_allclose(p, [0.81969703286982341, -1.8572155867270152], rtol=0, atol=1e-14)
    opt.apply(p, np.array([-0.2, 0.05]))
    np.testing.assert_allclose(p, [0.78526185621204466, -1.8272395780430873], rtol=0, atol=1e-14)
    assert opt.iterations == 3


def test_sgd_momentum_by_hand():
    # lr=0.1, momentum=0.9, g=1 each step: v1=-0.1, v2=-0.19, v3=-0.271; p: 0.9, 0.71, 0.439
    opt = SGD(0.1, momentum=0.9)
    p = np.array([1.0])
    opt.build([(0, 1)], 1, np.float64)
    got = []
    for _ in range(3):
        opt.apply(p, np.ones(1))
        got.append(p[0])
    np.testing.assert_allclose(got, [0.9, 0.71, 0.439], rtol=1e-14)
    # Nesterov: p += 0.9*v - 0.1*g: p1 = 1 - 0.09 - 0.1 = 0.81, p2 = 0.81 + 0.9*(-0.19) - 0.1 = 0.539
    opt = SGD(0.1, momentum=0.9, nesterov=True)
    p = np.array([1.0])
    opt.build([(0, 1)], 1, np.float64)
    opt.apply(p, np.ones(1))
    assert p[0] == pytest.approx(0.81, abs=1e-15)
    opt.apply(p, np.ones(1))
    assert p[0] == pytest.approx(0.539, abs=1e-15)


def test_adagrad_uses_initial_accumulator_by_hand():
    # acc = 0.1 + 0.3**2 = 0.19 -> step = 0.2 * 0.3 / sqrt(0.19 + 1e-7)
    opt = Adagrad(0.2)
    p = np.array([0.0])
    opt.build([(0, 1)], 1, np.float64)
    opt.apply(p, np.array([0.3]))
    assert p[0] == pytest.approx(-0.06 / math.sqrt(0.1900001), rel=1e-14)
    assert opt.get_state()["accumulator"][0] == pytest.approx(0.19, rel=1e-15)


def test_nadam_first_step_by_hand():
    # u1 = 0.9*(1-0.5*0.96) = 0.468, u2 = 0.9*(1-0.5*0.9216) = 0.48528; m = 0.1*g, v = 0.001*g^2
    # m_hat = u2*m/(1-u1*u2) + (1-u1)*g/(1-u1); v_hat = g^2  ->  step = lr*m_hat/(|g| + eps)
    g, lr = 2.0, 0.1
    m_hat = 0.48528 * 0.2 / (1 - 0.468 * 0.48528) + (1 - 0.468) * 2.0 / (1 - 0.468)
    opt = Nadam(lr)
    p = np.array([0.0])
    opt.build([(0, 1)], 1, np.float64)
    opt.apply(p, np.array([g]))
    assert p[0] == pytest.approx(-lr * m_hat / (2.0 + 1e-7), rel=1e-12)
    assert float(opt.get_state()["u_product"]) == pytest.approx(0.468, rel=1e-15)


# --------------------------------------------------------------------------------- clipping
# two variables: [3, 4] (norm 5) and [0.6, 0.8] (norm 1); element 4 lies outside every segment
G_CLIP = np.array([3.0, 4.0, 0.6, 0.8, 100.0])
SEGS = [(0, 2), (2, 2)]


def sgd_step_delta(**clip):
    opt = SGD(1.0, **clip)
    p = np.zeros(5)
    g = G_CLIP.copy()
    opt.build(SEGS, 5, np.float64)
    opt.apply(p, g)
    assert np.array_equal(g, G_CLIP)                      # the gradient buffer is not modified
    return -p


def test_clipnorm_is_per_variable():
    np.testing.assert_allclose(sgd_step_delta(clipnorm=2.0), [1.2, 1.6, 0.6, 0.8, 0.0], rtol=1e-15)


def test_global_clipnorm_scales_all_variables_together():
    s = 2.0 / math.sqrt(26.0)
    np.testing.assert_allclose(sgd_step_delta(global_clipnorm=2.0), [3 * s, 4 * s, 0.6 * s, 0.8 * s, 0.0],
                               rtol=1e-15)


def test_clipvalue_is_elementwise():
    np.testing.assert_allclose(sgd_step_delta(clipvalue=0.7), [0.7, 0.7, 0.6, 0.7, 0.0], rtol=1e-15)


def test_no_clip_below_threshold_and_segment_gaps_untouched():
    np.testing.assert_array_equal(sgd_step_delta(clipnorm=10.0), [3.0, 4.0, 0.6, 0.8, 0.0])
    np.testing.assert_array_equal(sgd_step_delta(global_clipnorm=10.0), [3.0, 4.0, 0.6, 0.8, 0.0])
    np.testing.assert_array_equal(sgd_step_delta(), [3.0, 4.0, 0.6, 0.8, 0.0])


@pytest.mark.parametrize("clip", [{"clipnorm": 2.0}, {"global_clipnorm": 2.0}, {"clipvalue": 0.7}])
def test_clipping_feeds_the_adaptive_optimizers(clip):
    # Adam with clipping == Adam (no clipping) on the clipped gradient, in both dtypes
    for dtype in (np.float64, np.float32):
        seg = np.array(SEGS, np.int64)
        mode, value = {"clipnorm": K.CLIP_NORM, "global_clipnorm": K.CLIP_GLOBAL, "clipvalue": K.CLIP_VALUE}[
            next(iter(clip))], next(iter(clip.values()))
        clipped = np.zeros(5, dtype)
        K.clipped_grad(G_CLIP.astype(dtype), clipped, seg, mode, value)
        a, b = Adam(0.1, **clip), Adam(0.1)
        pa, pb = np.ones(5, dtype), np.ones(5, dtype)
        a.build(SEGS, 5, dtype)
        b.build(SEGS, 5, dtype)
        for _ in range(2):
            a.apply(pa, G_CLIP.astype(dtype))
            b.apply(pb, clipped)
        np.testing.assert_allclose(pa, pb, rtol=1e-6 if dtype == np.float32 else 1e-14)
        assert pa[4] == 1.0


def test_non_finite_global_norm_makes_the_step_nan():
    # Keras: a NaN/inf global norm scales every gradient by NaN, so the blow-up is visible
    opt = SGD(0.1, global_clipnorm=1.0)
    p = np.zeros(4)
    opt.build([(0, 2), (2, 2)], 4, np.float64)
    opt.apply(p, np.array([1.0, np.inf, 0.0, 1.0]))
    assert np.isnan(p).all()
    opt = SGD(0.1, clipvalue=1.0)
    p = np.zeros(2)
    opt.build([(0, 2)], 2, np.float64)
    opt.apply(p, np.array([np.nan, 5.0]))
    assert np.isnan(p[0]) and p[1] == -0.1


@pytest.mark.parametrize("kwargs", [dict(clipnorm=1.0, clipvalue=1.0), dict(clipnorm=1.0, global_clipnorm=1.0),
                                    dict(clipvalue=1.0, global_clipnorm=2.0)])
def test_two_clip_options_raise(kwargs):
    with pytest.raises(NnplayError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        Adam(**kwargs)


# --------------------------------------------------------------------------------- learning rate
def test_set_learning_rate_takes_effect_on_next_step():
    opt = SGD(0.1)
    p = np.zeros(1)
    opt.build([(0, 1)], 1, np.float64)
    opt.apply(p, np.ones(1))
    assert p[0] == pytest.approx(-0.1)
    opt.set_learning_rate(0.5)
    assert opt.current_learning_rate() == 0.5
    opt.apply(p, np.ones(1))
    assert p[0] == pytest.approx(-0.6)
    assert opt.get_config()["learning_rate"] == 0.5


def test_schedule_drives_learning_rate_by_iterations():
    sched = schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5, 0.25])
    opt = SGD(sched)
    p = np.zeros(1)
    opt.build([(0, 1)], 1, np.float64)
    seen, deltas = [], []
    for _ in range(4):
        seen.append(opt.current_learning_rate())
        before = p[0]
        opt.apply(p, np.ones(1))
        deltas.append(before - p[0])
    assert seen == [1.0, 1.0, 0.5, 0.25]                  # evaluated at iterations 0, 1, 2, 3
    np.testing.assert_allclose(deltas, seen)
    assert opt.learning_rate is sched
    # a live change replaces the schedule with a constant
    opt.set_learning_rate(0.01)
    assert opt.learning_rate == 0.01 and opt.current_learning_rate() == 0.01
    assert opt.get_config()["learning_rate"] == 0.01


def test_adam_bias_correction_uses_the_scheduled_rate():
    sched = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = Adam(sched)
    ref = ref_adam(1.0)
    p, q = P0.copy(), P0.copy()
    opt.build([(0, 5)], 5, np.float64)
    state = {}
    for t in range(3):
        g = grad_at(p, t)
        opt.apply(p, g)
        lr = 0.1 * 0.5 ** t
        q = q + lr * (ref(q, g, t + 1, state) - q)         # the Adam step scales linearly with lr
    np.testing.assert_allclose(p, q, rtol=1e-12)


# --------------------------------------------------------------------------------- state
@pytest.mark.parametrize("make", [lambda: Adam(0.05, amsgrad=True), lambda: Nadam(0.05),
                                  lambda: RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda: SGD(0.1, momentum=0.9, nesterov=True), lambda: Adadelta(1.0),
                                  lambda: Adagrad(0.1), lambda: AdamW(0.05, clipnorm=1.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_round_trip_gives_identical_next_steps(make, dtype):
    opt = make()
    p = run(opt, 3, dtype)
    direct = opt.get_state()
    snapshot = {k: v.copy() for k, v in direct.items()}
    buf = io.BytesIO()
    np.savez(buf, **direct)
    buf.seek(0)
    with np.load(buf) as data:
        saved = {k: data[k] for k in data.files}
    clone = optimizers.from_config(opt.get_config())
    clone.build([(0, 2), (2, 3)], p.size, dtype)
    clone.set_state(saved)
    assert clone.iterations == opt.iterations == 3
    q = p.copy()
    for t in range(3, 5):
        g = grad_at(p.astype(np.float64), t).astype(dtype)
        opt.apply(p, g)
        clone.apply(q, g.copy())
    np.testing.assert_array_equal(p, q)
    # get_state hands out copies: stepping on does not change a saved state
    assert all(np.array_equal(snapshot[k], direct[k]) for k in direct)


def test_set_state_before_build_is_loaded_at_build():
    opt = Nadam(0.05)
    p = run(opt, 3)
    state = opt.get_state()
    clone = Nadam(0.05)
    clone.set_state(state)
    clone.build([(0, 2), (2, 3)], 5, np.float64)
    q = p.copy()
    g = grad_at(p, 3)
    opt.apply(p, g)
    clone.apply(q, g)
    np.testing.assert_array_equal(p, q)


def test_set_state_rejects_mismatched_state():
    opt = Adam()
    opt.build([(0, 3)], 3, np.float32)
    with pytest.raises(NnplayError, match="missing"):
        opt.set_state({"iterations": 1, "momentum": np.zeros(3)})
    with pytest.raises(NnplayError, match="shape"):
        opt.set_state({"iterations": 1, "momentum": np.zeros(4), "velocity": np.zeros(4)})
    sgd = SGD()
    sgd.build([(0, 3)], 3, np.float32)
    with pytest.raises(NnplayError, match="unexpected"):
        sgd.set_state(opt.get_state())


# --------------------------------------------------------------------------------- lookup, config, errors
def test_get_by_name_instance_and_dict():
    assert isinstance(optimizers.get("adam"), Adam)
    assert isinstance(optimizers.get("SGD"), SGD)
    assert isinstance(optimizers.get("RMSprop"), RMSprop)
    assert isinstance(optimizers.get("AdamW"), AdamW)
    opt = Adagrad()
    assert optimizers.get(opt) is opt
    got = optimizers.get({"name": "adam", "learning_rate": 0.01})
    assert isinstance(got, Adam) and got.learning_rate == 0.01
    assert optimizers.get(None) is None


def test_defaults_match_keras():
    assert (SGD().learning_rate, SGD().momentum, SGD().nesterov) == (0.01, 0.0, False)
    r = RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    a = Adam()
    assert (a.learning_rate, a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert a.weight_decay is None and AdamW().weight_decay == 0.004
    assert (Adagrad().initial_accumulator_value, Adagrad().epsilon) == (0.1, 1e-7)
    assert (Adadelta().rho, Adadelta().epsilon, Adadelta().learning_rate) == (0.95, 1e-7, 0.001)
    assert (Nadam().beta_1, Nadam().beta_2, Nadam().epsilon) == (0.9, 0.999, 1e-7)


@pytest.mark.parametrize("opt", [SGD(0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
                                 RMSprop(0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
                                 Adam(0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True, clipnorm=1.0),
                                 AdamW(0.5, weight_decay=0.008, global_clipnorm=2.0),
                                 Adagrad(0.5, initial_accumulator_value=0.2, epsilon=1e-5, clipvalue=0.5),
                                 Adadelta(0.5, rho=0.9, epsilon=1e-5),
                                 Nadam(schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5))])
def test_config_round_trip(opt):
    cfg = opt.get_config()
    assert cfg["name"] == type(opt).__name__.lower()
    again = optimizers.from_config(cfg)
    assert type(again) is type(opt) and again.get_config() == cfg
    assert optimizers.get(cfg).get_config() == cfg


def test_config_lists_only_non_defaults():
    assert Adam().get_config() == {"name": "adam", "learning_rate": 0.001}
    assert AdamW().get_config() == {"name": "adamw", "learning_rate": 0.001}
    assert SGD(momentum=0.9).get_config() == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9}
    sched_cfg = SGD(schedules.ExponentialDecay(0.1, 10, 0.5)).get_config()["learning_rate"]
    assert sched_cfg["type"] == "exponential_decay" and sched_cfg["decay_rate"] == 0.5


def test_keras_config_loads():
    keras_cfg = {"name": "SGD", "learning_rate": 0.5, "weight_decay": None, "clipnorm": None,
                 "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                 "ema_overwrite_frequency": None, "loss_scale_factor": None,
                 "gradient_accumulation_steps": None, "momentum": 0.9, "nesterov": False}
    opt = optimizers.from_config(keras_cfg)
    assert isinstance(opt, SGD) and opt.momentum == 0.9 and opt.learning_rate == 0.5
    opt = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.01, "amsgrad": True}})
    assert isinstance(opt, Adam) and opt.amsgrad


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.get("adma"), "unknown optimizer 'adma' (did you mean 'adam'?)"),
    (lambda: optimizers.get("rmsprob"), "did you mean 'rmsprop'"),
    (lambda: optimizers.get({"name": "nadm"}), "did you mean 'nadam'"),
    (lambda: optimizers.get(3), "optimizer must be a name"),
    (lambda: Adam(beta_1=1.5), "Adam: beta_1 must be in [0, 1), got beta_1=1.5"),
    (lambda: Adam(beta_2=1.0), "beta_2 must be in [0, 1), got beta_2=1.0"),
    (lambda: Nadam(beta_1=-0.1), "Nadam: beta_1 must be in [0, 1), got beta_1=-0.1"),
    (lambda: SGD(momentum=1.2), "SGD: momentum must be in [0, 1], got momentum=1.2"),
    (lambda: RMSprop(rho=1.5), "RMSprop: rho must be in [0, 1], got rho=1.5"),
    (lambda: Adam(epsilon=-1e-8), "Adam: epsilon must be >= 0, got epsilon=-1e-08"),
    (lambda: Adam(learning_rate=0), "Adam: learning_rate must be > 0, got learning_rate=0"),
    (lambda: SGD(learning_rate=-0.1), "learning_rate=-0.1"),
    (lambda: Adam(learning_rate="fast"), "learning_rate='fast'"),
    (lambda: Adam(learning_rate=float("nan")), "learning_rate=nan"),
    (lambda: Adam(clipnorm=0), "Adam: clipnorm must be > 0, got clipnorm=0"),
    (lambda: Adam(clipvalue=-1), "clipvalue=-1"),
    (lambda: Adam(global_clipnorm=-2.0), "global_clipnorm=-2.0"),
    (lambda: Adam(weight_decay=-0.1), "weight_decay must be >= 0, got weight_decay=-0.1"),
    (lambda: AdamW(weight_decay=None), "AdamW: weight_decay must be a number >= 0, got weight_decay=None"),
    (lambda: Adagrad(initial_accumulator_value=-1), "initial_accumulator_value=-1"),
    (lambda: SGD(nesterov="yes"), "nesterov must be True or False, got nesterov='yes'"),
    (lambda: Adam(eps=0.1), "Adam: unknown argument 'eps' (did you mean 'epsilon'?)"),
    (lambda: Adam(betta_1=0.9), "did you mean 'beta_1'"),
    (lambda: SGD(momentom=0.9), "did you mean 'momentum'"),
    (lambda: Adam(use_ema=True), "use_ema is not supported"),
    (lambda: optimizers.from_config({"learning_rate": 0.1}), "needs a 'name'"),
])
def test_bad_arguments_echo_the_value(make, match):
    with pytest.raises(NnplayError) as exc:
        make()
    assert match in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_keras2_lr_is_taken_with_a_warning():
    # tutorials written for Keras 2 pass lr=; Keras 3 refuses it, nnplay takes it and says so
    with pytest.warns(UserWarning, match="lr is Keras 2's name for learning_rate"):
        opt = Adam(lr=0.0002, beta_1=0.5)
    assert opt.learning_rate == 0.0002 and opt.get_config()["learning_rate"] == 0.0002


def test_set_learning_rate_validates():
    opt = SGD()
    with pytest.raises(NnplayError, match="learning_rate=-1"):
        opt.set_learning_rate(-1)
    assert opt.learning_rate == 0.01


def test_build_and_apply_errors():
    opt = Adam()
    with pytest.raises(NnplayError, match="call build"):
        opt.apply(np.zeros(3, np.float32), np.zeros(3, np.float32))
    with pytest.raises(NnplayError, match="overlap"):
        opt.build([(0, 3), (2, 2)], 5, np.float32)
    with pytest.raises(NnplayError, match="does not fit"):
        opt.build([(0, 6)], 5, np.float32)
    with pytest.raises(NnplayError, match="float32 or float64"):
        opt.build([(0, 5)], 5, np.int32)
    opt.build([(0, 3)], 3, np.float32)
    with pytest.raises(NnplayError, match=r"built for a buffer of shape \(3,\)"):
        opt.apply(np.zeros(4, np.float32), np.zeros(4, np.float32))
    assert opt.iterations == 0


def test_hyperparameters_are_read_only():
    opt = SGD(momentum=0.9)
    with pytest.raises(AttributeError):
        opt.momentum = 0.0
    with pytest.raises(AttributeError):
        opt.clipnorm = 1.0


def test_adam_paper_epsilon_mode_matches_algorithm_one():
    """epsilon_mode='paper': p -= lr * m_hat / (sqrt(v_hat) + eps), the Adam paper's Algorithm 1."""
    import numpy as np
    from nnplay.core.optimizers import Adam
    g_seq = [np.array([1e-6, -2e-3, 0.5]), np.array([3e-6, 1e-3, -0.25]), np.array([-1e-6, 0.0, 0.1])]
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-3     # a large eps makes the placement visible
    opt = Adam(lr, epsilon=eps, epsilon_mode="paper")
    P = np.array([0.1, 0.2, 0.3])
    opt.build([(0, 3)], 3, np.float64)
    p_ref, m, v = P.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(g_seq, start=1):
        opt.apply(P, g.copy())
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p_ref -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        assert np.allclose(P, p_ref, rtol=1e-12, atol=1e-15)
    assert opt.get_config()["epsilon_mode"] == "paper"
    with pytest.raises(NnplayError, match="epsilon_mode"):
        Adam(epsilon_mode="torch")

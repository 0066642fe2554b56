"""The functional API: Input tensors, layers called on them, Model(inputs, outputs) with several inputs and
outputs, merge layers, shared layers, models called as layers, sub-models that share weights, saving, the
summary's "Connected to" column, and the whole graph gradient-checked against finite differences."""
import numpy as np
import pytest

from nnplay.core import Model, Sequential, load_model
from nnplay.core.errors import NnplayError
from nnplay.core.gradcheck import check_layer, numeric_grad, rel_error
from nnplay.core.layers import (LSTM, Activation, Add, Average, Concatenate, Conv2D, Dense, Dropout, Flatten,
                                Input, InputLayer, Maximum, Minimum, Multiply, Subtract)
from nnplay.core.models import Functional
from nnplay.core.optimizers import SGD
from nnplay.core.seeding import set_seed

TOL = 1e-6


@pytest.fixture(autouse=True)
def _seeded():
    set_seed(0)
    yield
    set_seed(None)


def graph_grad_error(model, x, y) -> float:
    """Largest relative error between the gradient a training step computes and central differences of the
    loss evaluate() reports, over every trainable weight."""
    x, y = model.check_data(x, y)
    model._ensure_bound()
    P0 = model.P.copy()
    model.train_step(x, y)
    analytic = model.G.copy()
    model.P[...] = P0

    def loss():
        return model.evaluate_prepared(x, y, batch_size=10**6)["loss"]

    idx, num = numeric_grad(loss, model.P, max_checks=80)
    return rel_error(analytic[idx], num)


def f64(shape, name=None):
    return Input(shape=shape, dtype="float64", name=name)


def data(rng, *shapes):
    return [rng.standard_normal((6, *s)) for s in shapes]


# ------------------------------------------------------------------------------------------ building
def test_input_is_a_symbolic_tensor_and_layers_record_their_calls():
    x = Input(shape=(4,))
    assert x.shape == (4,) and "(None, 4)" in repr(x)
    dense = Dense(3)
    h = dense(x)
    assert h.shape == (3,) and dense.built and dense.params["kernel"].shape == (4, 3)
    assert h.keras_history == (dense, 0, 0)
    with pytest.raises(NnplayError, match="has no values"):
        np.asarray(h)
    with pytest.raises(NnplayError, match="cannot be called on"):
        dense(Input(shape=(5,)))
    # called on arrays, a layer computes
    out = Dense(2)(np.ones((3, 4)))
    assert out.shape == (3, 2)


def test_model_of_inputs_and_outputs_is_functional_and_lists_its_layers():
    a, b = Input(shape=(4,), name="a"), Input(shape=(3,), name="b")
    h = Concatenate()([Dense(8, activation="relu")(a), Dense(5)(b)])
    out = Dense(1, activation="sigmoid", name="out")(h)
    model = Model([a, b], out)
    assert isinstance(model, Functional) and isinstance(model, Model)
    assert [l.name for l in model.layers] == ["a", "b", "dense", "dense_1", "concatenate", "out"]
    assert model.input_shapes == [(4,), (3,)] and model.output_shape == (1,)
    assert model.count_params() == 4 * 8 + 8 + 3 * 5 + 5 + 13 + 1
    with pytest.raises(NnplayError, match="graph disconnected"):
        Model(a, out)                                   # out needs b too
    with pytest.raises(NnplayError, match="Input"):
        Model(h, out)


def test_unnamed_models_are_numbered():
    names = [Sequential([Dense(1)]).name for _ in range(3)]
    first = int(names[0].rpartition("_")[2]) if "_" in names[0] else 0
    assert names[1:] == [f"sequential_{first + 1}", f"sequential_{first + 2}"]
    x = Input(shape=(2,))
    m1, m2 = Model(x, Dense(1)(x)), Model(x, Dense(1)(x))
    assert m1.name.startswith("functional") and m2.name != m1.name
    assert Sequential([Dense(1)], name="mine").name == "mine"


def test_summary_has_connected_to_for_graphs_and_not_for_chains():
    a, b = Input(shape=(4,), name="input_a"), Input(shape=(3,), name="input_b")
    c = Concatenate()([Dense(8, name="d8")(a), Dense(5, name="d5")(b)])
    text = Model([a, b], Dense(1, name="out")(c)).summary(print_fn=None)
    assert "Connected to" in text
    assert "input_a[0][0]" in text and "d8[0][0]," in text and "d5[0][0]" in text and "concatenate[0][0]" in text
    assert "Total params: 74" in text
    x = Input(shape=(4,))
    chain = Model(x, Dense(2)(Dense(3)(x))).summary(print_fn=None)
    assert "Connected to" not in chain and "(InputLayer)" in chain


# ------------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("merge", [Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum])
def test_merge_layers_gradients(merge):
    layer = merge()
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((3, 4)) for _ in range(2)]
    layer.build([(4,), (4,)], rng, np.float64)
    out = layer.forward(xs, True)
    R = rng.standard_normal(out.shape)
    grads = layer.backward(R.copy())
    for i, x in enumerate(xs):
        idx, num = numeric_grad(lambda: float(np.sum(layer.forward(xs, True) * R)), x)
        assert rel_error(np.asarray(grads[i]).reshape(-1)[idx], num) < TOL


def test_concatenate_checks_shapes_and_axis():
    with pytest.raises(NnplayError, match="other sizes must match"):
        Concatenate(axis=-1)([Input(shape=(2, 3)), Input(shape=(4, 5))])
    out = Concatenate(axis=1)([Input(shape=(2, 3)), Input(shape=(4, 3))])
    assert out.shape == (6, 3)
    with pytest.raises(NnplayError, match="one shape"):
        Add()([Input(shape=(2,)), Input(shape=(3,))])
    with pytest.raises(NnplayError, match="list of inputs"):
        Add()(Input(shape=(2,)))


def test_two_inputs_two_outputs_loss_weights_gradient():
    rng = np.random.default_rng(0)
    a, b = f64((4,), "a"), f64((3,), "b")
    h = Concatenate()([Dense(6, activation="tanh")(a), Dense(5, activation="relu")(b)])
    cls = Dense(1, activation="sigmoid", name="cls")(h)
    reg = Dense(2, name="reg")(Dense(4, activation="elu")(h))
    model = Model([a, b], [cls, reg])
    model.compile(SGD(0.1), loss={"cls": "binary_crossentropy", "reg": "mse"}, loss_weights=[1.0, 0.3],
                  metrics={"cls": ["accuracy"], "reg": ["mae"]})
    x = data(rng, (4,), (3,))
    y = [rng.integers(0, 2, (6, 1)), rng.standard_normal((6, 2))]
    assert graph_grad_error(model, x, y) < TOL
    logs = model.evaluate(x, y, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.3 * logs["reg_loss"])
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"}
    hist = model.fit({"a": x[0], "b": x[1]}, {"cls": y[0], "reg": y[1]}, epochs=2, batch_size=4, verbose=0,
                     validation_split=0.34)
    assert {"loss", "cls_loss", "val_reg_mae"} <= set(hist.history)
    assert [p.shape for p in model.predict(x)] == [(6, 1), (6, 2)]


def test_residual_add_block_gradient():
    rng = np.random.default_rng(2)
    x_in = f64((5,))
    h = Dense(5, activation="relu")(x_in)
    h = Add()([Dense(5)(h), x_in])                       # the skip connection feeds the input twice
    out = Dense(1)(Activation("tanh")(h))
    model = Model(x_in, out)
    model.compile(SGD(0.1), "mse")
    x, y = rng.standard_normal((6, 5)), rng.standard_normal((6, 1))
    assert graph_grad_error(model, x, y) < TOL


def test_shared_layer_has_one_set_of_weights_and_summed_gradients():
    rng = np.random.default_rng(3)
    a, b = f64((4,)), f64((4,))
    shared = Dense(3, activation="tanh", name="shared")
    diff = Subtract()([shared(a), shared(b)])            # a siamese pair
    out = Dense(1, activation="sigmoid")(Multiply()([diff, diff]))
    model = Model([a, b], out)
    assert [l.name for l in model.layers].count("shared") == 1 and len(shared._inbound_nodes) == 2
    assert model.count_params() == 4 * 3 + 3 + 4
    model.compile(SGD(0.1), "binary_crossentropy")
    x, y = data(rng, (4,), (4,)), rng.integers(0, 2, (6, 1))
    assert graph_grad_error(model, x, y) < TOL
    assert "shared[0][0], shared[1][0]" in model.summary(print_fn=None).replace("\n", " ").replace(",  ", ", ") \
        or "shared[1][0]" in model.summary(print_fn=None)


def test_shared_conv_and_recurrent_layers_keep_each_calls_state():
    rng = np.random.default_rng(4)
    a, b = f64((6, 6, 1)), f64((6, 6, 1))
    conv = Conv2D(2, 3)
    h = Concatenate()([Flatten()(conv(a)), Flatten()(conv(b))])
    model = Model([a, b], Dense(1)(h))
    model.compile(SGD(0.1), "mse")
    x, y = data(rng, (6, 6, 1), (6, 6, 1)), rng.standard_normal((6, 1))
    assert graph_grad_error(model, x, y) < 1e-5        # the conv kernels sum in float32-friendly order
    s1, s2 = f64((5, 2)), f64((5, 2))
    lstm = LSTM(3)
    model = Model([s1, s2], Dense(1)(Add()([lstm(s1), lstm(s2)])))
    model.compile(SGD(0.1), "mse")
    x = data(rng, (5, 2), (5, 2))
    assert graph_grad_error(model, x, y) < 1e-5


def test_model_called_as_a_layer_and_shared_sub_model():
    rng = np.random.default_rng(5)
    inner_in = f64((4,))
    encoder = Model(inner_in, Dense(3, activation="tanh")(Dense(5, activation="relu")(inner_in)), name="encoder")
    a, b = f64((4,)), f64((4,))
    out = Dense(1)(Concatenate()([encoder(a), encoder(b)]))     # the same sub-model twice
    model = Model([a, b], out)
    model.compile(SGD(0.1), "mse")
    x, y = data(rng, (4,), (4,)), rng.standard_normal((6, 1))
    assert graph_grad_error(model, x, y) < TOL
    # a Sequential inside a functional model
    seq = Sequential([Dense(4, activation="tanh"), Dense(2)], dtype="float64")
    inp = f64((3,))
    model = Model(inp, Dense(1)(seq(inp)))
    model.compile(SGD(0.1), "mse")
    assert graph_grad_error(model, rng.standard_normal((6, 3)), y) < TOL


def test_sub_models_share_weights_with_the_whole():
    rng = np.random.default_rng(6)
    inp = Input(shape=(16,))
    code = Dense(4, activation="relu", name="code")(inp)
    out = Dense(16, activation="sigmoid")(code)
    autoencoder = Model(inp, out)
    encoder = Model(inp, code)
    code_in = Input(shape=(4,))
    decoder = Model(code_in, autoencoder.layers[-1](code_in))
    autoencoder.compile("adam", "binary_crossentropy")
    x = rng.random((64, 16)).astype(np.float32)
    before = encoder.predict(x)
    autoencoder.fit(x, x, epochs=3, batch_size=16, verbose=0)
    after = encoder.predict(x)
    assert not np.allclose(before, after)                       # training the whole moved the encoder
    np.testing.assert_allclose(decoder.predict(after), autoencoder.predict(x), rtol=1e-5, atol=1e-6)
    assert [l.name for l in encoder.layers][-1] == "code" and encoder.count_params() == 16 * 4 + 4


def test_a_dense_chain_takes_the_one_kernel_step_whichever_api_built_it():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((32, 5)).astype(np.float32), rng.integers(0, 2, 32)
    inp = Input(shape=(5,))
    fm = Model(inp, Dense(1, activation="sigmoid")(Dense(8, activation="tanh")(inp)))
    sm = Sequential([Input(shape=(5,)), Dense(8, activation="tanh"), Dense(1, activation="sigmoid")])
    sm.set_weights(fm.get_weights())
    for m in (fm, sm):
        m.compile(SGD(0.5), "binary_crossentropy")
        m.check_data(x[:2], y[:2])
    assert fm._fast is not None and sm._fast is not None
    hf = fm.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    hs = sm.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(hf, hs, rtol=1e-6)
    inp = Input(shape=(5,))
    branched = Model(inp, Add()([Dense(1)(inp), Dense(1)(inp)]))
    branched.compile("sgd", "mse")
    branched.check_data(x[:2], y[:2, None].astype(np.float32))
    assert branched._fast is None


def test_save_and_load_a_functional_model(tmp_path):
    rng = np.random.default_rng(8)
    a, b = Input(shape=(4,), name="a"), Input(shape=(2,), name="b")
    shared = Dense(3, name="shared")
    h = Concatenate(name="join")([shared(a), shared(Dense(4, name="lift")(b)), Dropout(0.1)(a)])
    model = Model([a, b], [Dense(1, name="y1")(h), Dense(2, activation="softmax", name="y2")(h)], name="twin")
    model.compile("adam", ["mse", "sparse_categorical_crossentropy"], metrics={"y2": ["accuracy"]})
    x = [rng.standard_normal((10, 4)).astype(np.float32), rng.standard_normal((10, 2)).astype(np.float32)]
    y = [rng.standard_normal((10, 1)), rng.integers(0, 2, 10)]
    model.fit(x, y, epochs=1, verbose=0)
    path = model.save(tmp_path / "twin.npz")
    again = load_model(path)
    assert type(again) is Functional and again.name == "twin"
    assert [l.name for l in again.layers] == [l.name for l in model.layers]
    for p, q in zip(model.predict(x), again.predict(x)):
        np.testing.assert_allclose(p, q, rtol=1e-6)
    assert again.evaluate(x, y, return_dict=True)["y2_accuracy"] == \
        pytest.approx(model.evaluate(x, y, return_dict=True)["y2_accuracy"])
    assert len(again.get_layer("shared")._inbound_nodes) == 2


def test_compile_checks_per_output_arguments():
    a = Input(shape=(2,))
    model = Model(a, [Dense(1, name="p")(a), Dense(1, name="q")(a)])
    with pytest.raises(NnplayError, match="outputs are p, q"):
        model.compile("sgd", loss={"p": "mse", "r": "mse"})
    with pytest.raises(NnplayError, match="list of lists"):
        model.compile("sgd", loss="mse", metrics=["mae"])
    with pytest.raises(NnplayError, match="2 outputs"):
        model.compile("sgd", loss=["mse"])
    model.compile("sgd", loss="mse")                           # one loss for every output
    with pytest.raises(NnplayError, match="2 outputs"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


def test_input_layer_class_starts_a_sequential():
    model = Sequential([InputLayer(shape=(3,)), Dense(2)])
    assert model.input_shapes == [(3,)]
    model = Sequential([Input(shape=(3,)), Dense(2)])
    assert model.count_params() == 8
    check_layer(Dense(2), (3,))                                  # layers still work alone


def test_from_config_replays_a_shared_layers_calls_in_their_order_whatever_the_layer_order():
    from nnplay.core import layers
    a, b = Input((2,), name="a"), Input((2,), name="b")
    shared = layers.Dense(2, name="shared")
    y0 = shared(layers.Dense(2, name="deep")(layers.Dense(2, name="pre")(a)))   # call 0: needs pre, deep
    y1 = shared(b)                                                             # call 1: ready at once
    model = Model([a, b], layers.Concatenate()([y0, layers.Dense(2, name="post")(y1)]))
    cfg = model.get_config()
    order = ["a", "b", "shared", "post", "pre", "deep", "concatenate"]       # as a depth-ordered file may list them
    cfg["layers"] = sorted(cfg["layers"], key=lambda lc: order.index(lc["name"]))
    again = Functional.from_config(cfg)
    again.build()
    again.set_weights(model.get_weights())
    x = [np.random.default_rng(0).random((3, 2)), np.random.default_rng(1).random((3, 2))]
    np.testing.assert_allclose(again.predict(x), model.predict(x), atol=1e-6)

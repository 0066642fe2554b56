"""``model_keras.py``: the model as Keras 3 code (``keras.Sequential([...])`` or functional code), nnplay's
weights set layer by layer, the preset's data, ``compile`` + ``fit`` as the preset trains (a GAN's loop as
nnplay runs it), and ``--check``."""
from __future__ import annotations

from ..layers import (Add, Average, AveragePooling1D, AveragePooling2D, Concatenate, Embedding, Maximum, Minimum,
                      Multiply, Sampling, Subtract)
from .code import comment_lines, py, with_comment, wrapped_call
from .common import TOLERANCE, ScriptInfo, argument_parser, check_lines, data_loader, header
from .geometry import same_pads
from .graph import Graph, weight_entries
from .keras_layers import keras_layer
from .keras_training import loss_note, loss_source, metrics_source, optimizer_source, schedule_source

#: Keras 3 starts on TensorFlow unless told otherwise; a learner may have only JAX or PyTorch installed.
BACKEND_CHOICE = [
    "# Keras 3 runs on TensorFlow, JAX or PyTorch. Without KERAS_BACKEND it takes the one keras.json names",
    "# (TensorFlow at first): when that one is not installed, use one that is.",
    'if "KERAS_BACKEND" not in os.environ:',
    '    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"',
    '    wanted = json.loads(config.read_text()).get("backend", "tensorflow") if config.exists() else "tensorflow"',
    "    if importlib.util.find_spec(wanted) is None:",
    '        os.environ["KERAS_BACKEND"] = next((name for name in ("jax", "torch", "tensorflow")',
    '                                            if importlib.util.find_spec(name)), wanted)',
]

SAMPLING_CLASS = '''class Sampling(layers.Layer):
    """nnplay's VAE layer: [mean | log_var] in, a latent code out, plus the KL term as a loss of the layer.
    Training draws mean + exp(log_var / 2) * noise (the reparameterisation trick); inference gives the mean."""

    def __init__(self, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        mean, log_var = keras.ops.split(x, 2, axis=-1)
        kl = -0.5 * keras.ops.sum(1 + log_var - mean**2 - keras.ops.exp(log_var), axis=1)
        self.add_loss(self.beta * keras.ops.mean(kl))
        if training:
            noise = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
            return mean + keras.ops.exp(0.5 * log_var) * noise
        return mean'''

STOP_CLASS = '''class StopAtTarget(keras.callbacks.Callback):
    """nnplay's stop rule: end training once a logged value reaches a target."""

    def __init__(self, monitor, target, mode):
        super().__init__()
        self.monitor, self.target, self.mode = monitor, target, mode

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and (value <= self.target if self.mode == "min" else value >= self.target):
            self.model.stop_training = True'''


def build_function(graph: Graph, func: str, index_input: bool) -> list[str]:
    """``def build_model():`` returning the Keras model."""
    dtype = ', dtype="int32"' if index_input else ""
    role = {"build_model": "The model", "build_generator": "The generator",
            "build_discriminator": "The discriminator"}[func]
    lines = [f"def {func}():", f'    """{role}, layer by layer, with Keras\' arguments (only those that differ from '
                               f'Keras\' defaults)."""']
    if not graph.functional:
        lines.append("    return keras.Sequential([")
        lines.append(f"        keras.Input(shape={py(graph.input_shape)}{dtype}),")
        for step in graph.steps:
            lines.extend(with_comment(f"        {keras_layer(step.layer)},", _layer_note(step)))
        lines.append(f"    ], name={py(graph.name)})")
        return lines
    lines.append(f"    {graph.input_var} = keras.Input(shape={py(graph.input_shape)}{dtype}, "
                 f"name={py(graph.input_name)})")
    shared = {id(s.layer) for s in graph.steps if not s.first_call}
    for step in graph.steps:
        args = step.inputs[0] if len(step.inputs) == 1 and not _is_merge(step) else \
            "[" + ", ".join(step.inputs) + "]"
        if id(step.layer) in shared:
            if step.first_call:
                lines.append(f"    {step.attr}_layer = {keras_layer(step.layer, named=True)}  # called more than once")
            lines.append(f"    {step.output} = {step.attr}_layer({args})")
        else:
            lines.extend(with_comment(f"    {step.output} = {keras_layer(step.layer, named=True)}({args})",
                                      _layer_note(step)))
    lines.append(f"    return keras.Model({graph.input_var}, {graph.output_var}, name={py(graph.name)})")
    return lines


def _is_merge(step) -> bool:
    return isinstance(step.layer, (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))


def _layer_note(step) -> str | None:
    layer = step.layer
    if isinstance(layer, (AveragePooling1D, AveragePooling2D)) and layer.padding == "same":
        sizes = step.in_shapes[0][:-1]
        if any(sum(same_pads(n, k, s)) for n, k, s in zip(sizes, layer.pool_size, layer.strides)):
            return ("with this padding Keras' torch backend repeats the border instead of leaving it out of "
                    "the mean, so border outputs differ from nnplay's there")
    return None


def weight_lines(graph: Graph, model_var: str, prefix: str = "") -> list[str]:
    """``model.layers[i].set_weights([...])`` (or ``get_layer(name)`` in a functional model) per layer."""
    lines = []
    for i, layer in enumerate(graph.layers):
        keys = [key for key, _ in weight_entries(layer, prefix)]
        if not keys:
            continue
        target = f'{model_var}.get_layer({py(layer.name)})' if graph.functional else f"{model_var}.layers[{i}]"
        arrays = ", ".join(f"w[{py(k)}]" for k in keys)
        lines.append(f"        {target}.set_weights([{arrays}])")
    return lines or ["        pass  # no layer has weights"]


def keras_script(info: ScriptInfo, graphs: dict[str, Graph]) -> str:
    """The whole script."""
    plan = info.plan
    gan = plan.kind == "gan"
    uses_sampling = any(isinstance(s.layer, Sampling) for g in graphs.values() for s in g.steps)
    stop = plan.stop
    uses_stop = stop is not None and (stop.target_loss is not None or stop.target_accuracy is not None)
    needs = ("Needs Keras 3 with one of its backends (TensorFlow, JAX or PyTorch; KERAS_BACKEND chooses) and "
             "NumPy. nnplay's layers, weights and training settings are Keras' own, so this is the same model.")
    out = header(info, needs)
    out += ["import argparse", "import importlib.util", "import json", "import os", "import sys",
            "from pathlib import Path", "", "import numpy as np", "", *BACKEND_CHOICE, "",
            "import keras  # noqa: E402  (after the backend is chosen)", "from keras import layers  # noqa: E402",
            "", "HERE = Path(__file__).resolve().parent", f"EPOCHS = {plan.epochs}",
            f"BATCH_SIZE = {plan.batch_size}", f"SEED = {plan.seed}",
            f"TOLERANCE = {TOLERANCE}  # --check: the largest difference from nnplay's outputs that passes"]
    if gan:
        out += [f"{k.upper()} = {py(v)}" for k, v in plan.gan.items()]
    for block, used in ((SAMPLING_CLASS, uses_sampling), (STOP_CLASS, uses_stop)):
        if used:
            out += ["", "", block]
    for role, graph in graphs.items():
        func = "build_model" if role == "model" else f"build_{role}"
        first = graph.steps[0].layer if graph.steps else None
        out += ["", ""] + build_function(graph, func, isinstance(first, Embedding))
    out += ["", ""] + _load_weights(graphs)
    out += ["", ""] + data_loader(info)
    out += ["", ""] + (_train_gan(info, graphs) if gan else _train(info, graphs["model"]))
    predict = "np.asarray(model.predict(inputs, verbose=0))"
    out += ["", ""] + check_lines(predict)
    out += ["", ""] + _main(info, graphs)
    return "\n".join(out) + "\n"


def _load_weights(graphs: dict[str, Graph]) -> list[str]:
    roles = list(graphs)
    params = ", ".join("model" if r == "model" else r for r in roles)
    lines = [f"def load_weights({params}):",
             '    """Set nnplay\'s weights (weights.npz: Keras\' layout and order already) layer by layer."""',
             '    with np.load(HERE / "weights.npz") as w:']
    for role, graph in graphs.items():
        prefix = "" if role == "model" else f"{role}/"
        lines += weight_lines(graph, "model" if role == "model" else role, prefix)
    return lines


def _fit_args(info: ScriptInfo, ae: bool) -> tuple[list[str], str]:
    plan = info.plan
    y_train, y_test = ("x_train", "x_test") if ae else ("y_train", "y_test")
    args = [f"x_train, {y_train}", "epochs=epochs", "batch_size=BATCH_SIZE"]
    if plan.validation == "test":
        args.append(f"validation_data=(x_test, {y_test})")
    elif plan.validation == "split":
        args.append(f"validation_split={py(plan.validation_split)}")
    if not plan.shuffle:
        args.append("shuffle=False")
    return args, y_test


def _callbacks(plan) -> list[str]:
    s = plan.stop
    if s is None:
        return []
    val = plan.validation != "none"
    out = []
    if s.patience is not None:
        args = {"monitor": s.monitor or ("val_loss" if val else "loss"), "patience": s.patience}
        if s.min_delta:
            args["min_delta"] = s.min_delta
        if s.restore_best_weights:
            args["restore_best_weights"] = True
        out.append("keras.callbacks.EarlyStopping(" + ", ".join(f"{k}={py(v)}" for k, v in args.items()) + ")")
    if s.target_loss is not None:
        out.append(f'StopAtTarget("loss", {py(s.target_loss)}, "min")')
    if s.target_accuracy is not None:
        out.append(f'StopAtTarget("{"val_accuracy" if val else "accuracy"}", {py(s.target_accuracy)}, "max")')
    return out


def _train(info: ScriptInfo, graph: Graph) -> list[str]:
    plan = info.plan
    ae = plan.kind == "autoencoder"
    units = graph.output_shape[-1] if graph.output_shape else 1
    metrics, left_out = metrics_source(plan, units)
    last = graph.steps[-1].layer if graph.steps else None
    note = loss_note(plan.loss, getattr(last, "activation", None) if last is not None else None)
    doc = "on input = target, as an autoencoder learns" if ae else "as the preset says"
    lines = ["def train(model, epochs):", f'    """Compile and fit {doc}."""',
             "    keras.utils.set_random_seed(SEED)  # the same shuffling, dropout and noise in every run"]
    lines += ["    x_train, x_test = load_data()"] if ae else ["    x_train, y_train, x_test, y_test = load_data()"]
    if plan.optimizer.schedule is not None:
        lines += comment_lines(f"the schedule counts optimizer steps: {plan.steps_per_epoch} per epoch "
                               f"({plan.n_train} samples / batch size {plan.batch_size})", 4)
        lines.append(f"    learning_rate = {schedule_source(plan.optimizer.schedule)}")
    lines.append(f"    optimizer = {optimizer_source(plan.optimizer, schedule_var='learning_rate')}")
    compile_args = ["optimizer=optimizer", f"loss={loss_source(plan.loss, plan.loss_spelling)}"]
    if metrics:
        compile_args.append(f"metrics=[{', '.join(metrics)}]")
    lines += [line for text in left_out for line in comment_lines(text, 4)]
    if note:
        lines += comment_lines(note, 4)
    lines += wrapped_call("model.compile", compile_args)
    args, y_test = _fit_args(info, ae)
    callbacks = _callbacks(plan)
    if callbacks:
        args.append("callbacks=[" + ", ".join(callbacks) + "]")
    args.append("verbose=2")
    lines += wrapped_call("model.fit", args)
    lines.append(f'    print("test:", model.evaluate(x_test, {y_test}, verbose=0, return_dict=True))')
    return lines


def _train_gan(info: ScriptInfo, graphs: dict[str, Graph]) -> list[str]:
    plan = info.plan
    d_shape = ", ".join(map(str, graphs["discriminator"].output_shape))
    shape_n, shape_b = f"n, {d_shape}", f"BATCH_SIZE, {d_shape}"
    return [
        "def train(generator, discriminator, epochs):",
        '    """The GAN loop as nnplay runs it: per batch, K discriminator steps on real samples (labelled',
        "    1 - LABEL_SMOOTHING, minus up to LABEL_NOISE) and as many fakes (labelled 0, plus up to LABEL_NOISE),",
        '    then G_STEPS generator steps through the frozen discriminator, aiming at "real"."""',
        "    (x_real,) = load_data()",
        "    keras.utils.set_random_seed(SEED)",
        "    rng = np.random.default_rng(SEED)",
        f"    d_optimizer = {optimizer_source(plan.d_optimizer)}",
        f"    discriminator.compile(optimizer=d_optimizer, loss={loss_source(plan.loss, plan.loss_spelling)})",
        "    discriminator.trainable = False        # Keras 3 reads `trainable` at every step",
        '    gan = keras.Sequential([generator, discriminator], name="gan")',
        f"    g_optimizer = {optimizer_source(plan.optimizer)}",
        f"    gan.compile(optimizer=g_optimizer, loss={loss_source(plan.loss, plan.loss_spelling)})",
        "    steps = max(1, len(x_real) // (BATCH_SIZE * K))",
        "    for epoch in range(epochs):",
        "        order = rng.permutation(len(x_real))",
        '        sums = dict.fromkeys(("d_loss", "g_loss", "d_real", "d_fake"), 0.0)',
        "        for b in range(steps):",
        "            for j in range(K):",
        "                real = x_real[order[(b * K + j) * BATCH_SIZE:(b * K + j + 1) * BATCH_SIZE]]",
        "                n = len(real)",
        "                z = rng.standard_normal((n, LATENT_DIM)).astype(\"float32\")",
        "                fake = keras.ops.convert_to_numpy(generator(z, training=True))",
        f"                y_real = np.full(({shape_n}), 1.0 - LABEL_SMOOTHING, \"float32\")",
        f"                y_fake = np.zeros(({shape_n}), \"float32\")",
        "                if LABEL_NOISE:",
        "                    y_real -= rng.uniform(0.0, LABEL_NOISE, y_real.shape).astype(\"float32\")",
        "                    y_fake += rng.uniform(0.0, LABEL_NOISE, y_fake.shape).astype(\"float32\")",
        "                discriminator.trainable = True",
        "                d_loss = discriminator.train_on_batch(np.concatenate([real, fake]), "
        "np.concatenate([y_real, y_fake]))",
        "                sums[\"d_loss\"] += float(d_loss) / K",
        "                # D(real) and D(fake) after the step (nnplay reads them off the step's own forward pass)",
        "                sums[\"d_real\"] += float(np.mean(discriminator.predict_on_batch(real))) / K",
        "                sums[\"d_fake\"] += float(np.mean(discriminator.predict_on_batch(fake))) / K",
        "            discriminator.trainable = False   # the generator's step moves the generator only",
        "            for _ in range(G_STEPS):",
        "                z = rng.standard_normal((BATCH_SIZE, LATENT_DIM)).astype(\"float32\")",
        f"                g_loss = gan.train_on_batch(z, np.ones(({shape_b}), \"float32\"))",
        "                sums[\"g_loss\"] += float(g_loss) / G_STEPS",
        '        print(f"epoch {epoch + 1}/{epochs} - " '
        '+ " - ".join(f"{k}: {v / steps:.4f}" for k, v in sums.items()))',
    ]


def _main(info: ScriptInfo, graphs: dict[str, Graph]) -> list[str]:
    lines = ["def main():"] + argument_parser(info)
    if info.plan.kind == "gan":
        lines += ["    generator, discriminator = build_generator(), build_discriminator()",
                  "    load_weights(generator, discriminator)",
                  "    if args.check:",
                  "        return check(generator)",
                  "    train(generator, discriminator, args.epochs)"]
    else:
        lines += ["    model = build_model()",
                  "    load_weights(model)",
                  "    if args.check:",
                  "        return check(model)",
                  "    train(model, args.epochs)"]
    lines += ["    return 0", "", "", 'if __name__ == "__main__":', "    sys.exit(main())"]
    return lines

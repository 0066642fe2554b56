"""Runs the tutorial snippets in this folder as they are written (imports aside) under nnplay.keras, or under
real Keras for the parity tests.

What the harness adds around a snippet, and only around it:
- data files of the shapes Keras' datasets have, small, where Keras keeps them (a temporary KERAS_HOME);
- a stand-in ``matplotlib.pyplot`` that draws nothing, and a numpy stand-in for the three scikit-learn calls
  one snippet makes when scikit-learn is not installed;
- a prelude for the snippets the seeds left incomplete (a fragment's host model, names the text never
  defined), each saying why;
- caps that keep the suite fast: ``fit`` trains at most ``MAX_EPOCHS`` epochs on at most ``MAX_SAMPLES``
  samples, and a loop of ``train_on_batch`` calls stops after ``MAX_BATCH_CALLS``.
Hooks (``on_fit``, ``on_batch``) let a parity test record or set weights and force ``shuffle=False``.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import re
import sys
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MAX_EPOCHS = 2
MAX_SAMPLES = 256
MAX_BATCH_CALLS = 3
N_TRAIN, N_TEST = 256, 64


class StopSnippet(Exception):
    """Raised by a capped ``train_on_batch`` loop: the snippet ran as far as the test needs."""


#: Keras 3.15.1's parameter counts for the models each snippet builds (total, trainable), by variable name.
EXPECTED_PARAMS = {
    "01_ann_dense_softmax1": {"model": (3457, 3457)},
    "02_sgd_learning_rate": {"model": (3457, 3457)},
    "03_l2_kernel_regularizer": {"model": (3457, 3457)},
    "04_dropout": {"model": (3457, 3457)},
    "05_cnn_conv2d_random": {"model": (26826, 26826)},
    "06_image_data_generator": {"model": (26826, 26826)},
    "07_vgg16_transfer": {"base_model": (14714688, 14714688)},
    "08_simplernn_random": {"model": (4289, 4289)},
    "09_adam_clipvalue": {"model": (4289, 4289)},
    "10_bidirectional_simplernn": {"model": (8577, 8577)},
    "11_lstm_random_manual_split": {"model": (17217, 17217)},
    "12_stacked_lstm": {"model": (50241, 50241)},
    "13_lstm_dropout_recurrent_dropout": {"model": (17217, 17217)},
    "14_dense_plot_model": {"model": (2817, 2817)},
    "15_fnn_plot_model": {"model": (9989, 9989)},
    "16_rnn_plot_validation_split": {"model": (131, 131)},
    "17_cifar10_cnn": {"model": (122570, 122570)},
    "18_cifar10_visualize_repeat": {"model": (122570, 122570)},
    "19_gan_mnist_dense": {"generator": (1486352, 1486352), "discriminator": (1460225, 0),
                           "gan": (2946577, 1486352)},
    "20_lstm_sine_plot_model": {"model": (10451, 10451)},
    "21_autoencoder_mnist": {"autoencoder": (50992, 50992)},
    "23_digits_ann_sklearn": {"model": (6570, 6570)},
    "24_mnist_ann_dense": {"model": (109386, 109386)},
    "25_mnist_cnn": {"model": (121930, 121930)},
    "26_imdb_embedding_simplernn": {"model": (326273, 326273)},
    "27_inputlayer_mnist_tf": {"model": (5002, 5002)},
}

#: Snippets that are fragments or lost lines in the seeds: what runs before them (and after, for fragments
#: that add one layer to a host model). The text of the snippet itself is never changed.
PRELUDES = {
    # fragments of seed 000: the notebook cells they belong to
    "02_sgd_learning_rate": ("host", "01_ann_dense_softmax1", ""),
    # the generator augments the CNN cell's data; the tutorials then train with it (Keras' flow feeding fit)
    "06_image_data_generator": ("host", "05_cnn_conv2d_random",
                                "model.fit(datagen.flow(X_train, y_train, batch_size=32), epochs=10)\n"),
    "03_l2_kernel_regularizer": (
        "code", "import numpy as np\nfrom nnplay.keras.models import Sequential\nfrom nnplay.keras.layers import "
                "Dense\nX_train = np.random.random((10000, 20))\ny_train = np.random.randint(2, size=(10000, 1))\n"
                "input_dim = X_train.shape[1]\nmodel = Sequential()\n",
        "model.add(Dense(units=32, activation='relu'))\nmodel.add(Dense(units=1, activation='softmax'))\n"
        "model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])\n"
        "model.fit(X_train, y_train, epochs=50, batch_size=32)\n"),
    "04_dropout": (
        "code", "import numpy as np\nfrom nnplay.keras.models import Sequential\nfrom nnplay.keras.layers import "
                "Dense\nX_train = np.random.random((10000, 20))\ny_train = np.random.randint(2, size=(10000, 1))\n"
                "input_dim = X_train.shape[1]\nmodel = Sequential()\n",
        "model.add(Dense(units=32, activation='relu'))\nmodel.add(Dense(units=1, activation='softmax'))\n"
        "model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])\n"
        "model.fit(X_train, y_train, epochs=50, batch_size=32)\n"),
    "09_adam_clipvalue": ("host", "08_simplernn_random", "model.fit(X_train, y_train, epochs=10, batch_size=32)\n"),
    "10_bidirectional_simplernn": (
        "code", "import numpy as np\nfrom nnplay.keras.models import Sequential\nfrom nnplay.keras.layers import "
                "Dense\nX_train = np.random.random((10000, 20, 1))\ny_train = np.random.randint(2, size=(10000, 1))\n"
                "input_shape = X_train.shape[1:]\nmodel = Sequential()\n",
        "model.add(Dense(1, activation='sigmoid'))\nmodel.compile(loss='binary_crossentropy', optimizer='adam', "
        "metrics=['accuracy'])\nmodel.fit(X_train, y_train, epochs=10, batch_size=32)\n"),
    "12_stacked_lstm": (
        "code", "import numpy as np\nfrom nnplay.keras.models import Sequential\nfrom nnplay.keras.layers import "
                "Dense, LSTM\nX_train = np.random.random((1000, 10, 2))\ny_train = np.random.randint(2, size=(1000, 1))"
                "\ninput_shape = (10, 2)\nmodel = Sequential()\n",
        "model.add(Dense(1, activation='sigmoid'))\nmodel.compile(loss='binary_crossentropy', optimizer='adam', "
        "metrics=['accuracy'])\nmodel.fit(X_train, y_train, epochs=10, batch_size=32)\n"),
    "13_lstm_dropout_recurrent_dropout": (
        "code", "import numpy as np\nfrom nnplay.keras.models import Sequential\nfrom nnplay.keras.layers import "
                "Dense, LSTM\nX_train = np.random.random((1000, 10, 2))\ny_train = np.random.randint(2, size=(1000, 1))"
                "\ninput_shape = (10, 2)\nmodel = Sequential()\n",
        "model.add(Dense(1, activation='sigmoid'))\nmodel.compile(loss='binary_crossentropy', optimizer='adam', "
        "metrics=['accuracy'])\nmodel.fit(X_train, y_train, epochs=10, batch_size=32)\n"),
    # seed 001's RNN section never imports, never defines seq_length/X/y (and never compiles: see the test)
    "16_rnn_plot_validation_split": (
        "code", "import numpy as np\nimport matplotlib.pyplot as plt\nfrom nnplay.keras.models import Sequential\n"
                "from nnplay.keras.layers import SimpleRNN, Dense\nfrom nnplay.keras.utils import plot_model\n"
                "seq_length = 10\nX = np.random.random((256, seq_length, 1))\ny = np.random.randint(2, size=(256,))\n",
        ""),
    "18_cifar10_visualize_repeat": ("host", "17_cifar10_cnn", ""),
    # the lines that stack the GAN are lost between two blocks; the tutorials' recipe (the imports show
    # Sequential); Keras 3 reads trainable at every step, so this D never learns, in Keras as in nnplay
    "19_gan_mnist_dense": ("inject", "gan.compile(", "discriminator.trainable = False\n"
                                                     "gan = Sequential([generator, discriminator])\n"),
    # the model definition is lost between two blocks; the imports show the functional API
    "21_autoencoder_mnist": ("inject", "epochs = 50", "input_img = Input(shape=(784,))\n"
                                                      "encoded = Dense(32, activation='relu')(input_img)\n"
                                                      "decoded = Dense(784, activation='sigmoid')(encoded)\n"
                                                      "autoencoder = Model(input_img, decoded)\n"
                                                      "autoencoder.compile(optimizer='adam', "
                                                      "loss='binary_crossentropy')\n"),
    # seed 004 never defines the data; labels shaped like what this (Flatten-less) model outputs per image row
    "27_inputlayer_mnist_tf": (
        "code", "import numpy as np\nX_train = np.random.random((256, 28, 28))\n"
                "y_train = np.random.randint(10, size=(256, 28))\nX_test = np.random.random((64, 28, 28))\n"
                "y_test = np.random.randint(10, size=(64, 28))\n", ""),
}


#: Keras' weight files a snippet loads (``keras.applications``), written as small stand-ins where Keras keeps
#: them (``$KERAS_HOME/models``): the same layout, patterned values (tests/legacy_weights.py).
MODEL_FILES = {"07_vgg16_transfer": ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",)}


def write_keras_models(home: Path, files) -> None:
    """Stand-ins for Keras' ``notop`` VGG weight files (their arrays do not depend on the input size)."""
    if not files:
        return
    sys.path.insert(0, str(HERE.parent))
    from legacy_weights import write_legacy_weights

    from nnplay.keras import applications

    (home / "models").mkdir(parents=True, exist_ok=True)
    for fname in files:
        assert fname.endswith("_notop.h5"), fname
        build = {"vgg16": applications.VGG16, "vgg19": applications.VGG19}[fname.split("_")[0]]
        write_legacy_weights(home / "models" / fname, build(weights=None, include_top=False, input_shape=(32, 32, 3)))


def names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("[0-9][0-9]_*.py"))


def source(name: str) -> str:
    return (HERE / f"{name}.py").read_text()


def to_keras(text: str) -> str:
    """The same code importing real Keras instead of nnplay.keras (for the parity tests)."""
    text = re.sub(r"^(\s*)from nnplay import keras\b", r"\1import keras", text, flags=re.M)
    return re.sub(r"\bnnplay\.keras\b", "keras", text)


def full_code(name: str, keras: bool = False) -> str:
    """The snippet with its prelude (and postlude), as one program."""
    kind, a, b = PRELUDES.get(name, ("none", "", ""))
    code = source(name)
    if kind == "host":
        code = full_code(a) + "\n" + code + "\n" + b
    elif kind == "code":
        code = a + "\n" + code + "\n" + b
    elif kind == "inject":
        i = code.index(a)
        code = code[:i] + b + code[i:]
    return to_keras(code) if keras else code


# ------------------------------------------------------------------------------------------ stand-ins
class _Anything:
    """Absorbs every attribute and call (a plotting library that draws nothing)."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __iter__(self):
        return iter(())


def _fake_pyplot() -> types.ModuleType:
    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.__getattr__ = lambda name: _Anything()
    mpl = types.ModuleType("matplotlib")
    mpl.pyplot = pyplot
    return mpl


def _fake_sklearn() -> dict[str, types.ModuleType]:
    """load_digits, StandardScaler and train_test_split with scikit-learn's shapes and dtypes."""
    rng = np.random.default_rng(0)

    def load_digits():
        return types.SimpleNamespace(data=rng.integers(0, 17, (1797, 64)).astype(np.float64),
                                     target=rng.integers(0, 10, 1797))

    class StandardScaler:
        def fit_transform(self, x):
            x = np.asarray(x, np.float64)
            std = x.std(axis=0)
            return (x - x.mean(axis=0)) / np.where(std == 0, 1.0, std)

    def train_test_split(*arrays, test_size=0.25, random_state=None):
        n = len(arrays[0])
        order = np.random.RandomState(random_state).permutation(n)
        cut = n - int(np.ceil(n * test_size))
        return [part for a in arrays for part in (a[order[:cut]], a[order[cut:]])]

    mods = {name: types.ModuleType(name) for name in
            ("sklearn", "sklearn.datasets", "sklearn.model_selection", "sklearn.preprocessing")}
    mods["sklearn.datasets"].load_digits = load_digits
    mods["sklearn.preprocessing"].StandardScaler = StandardScaler
    mods["sklearn.model_selection"].train_test_split = train_test_split
    return mods


def write_keras_datasets(home: Path) -> None:
    """Small files of the shapes and formats Keras keeps (mnist.npz, CIFAR-10 batches, imdb.npz)."""
    d = home / "datasets"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.savez(d / "mnist.npz", x_train=rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, N_TRAIN, dtype=np.uint8),
             x_test=rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, N_TEST, dtype=np.uint8))
    cifar = d / "cifar-10-batches-py-target" / "cifar-10-batches-py"      # where Keras 3.15 extracts it
    cifar.mkdir(parents=True, exist_ok=True)
    per = N_TRAIN // 5
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        n = per if i < 5 else N_TEST
        batch = {b"batch_label": b"fake", b"labels": rng.integers(0, 10, n).tolist(),
                 b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"filenames": [b"x.png"] * n}
        with open(cifar / name, "wb") as f:      # a test fixture in Keras' format (nnplay never unpickles)
            pickle.dump(batch, f, protocol=4)
    seqs = lambda n: np.array([rng.integers(1, 12000, rng.integers(20, 160)).tolist() for _ in range(n)],  # noqa
                              dtype=object)
    np.savez(d / "imdb.npz", x_train=seqs(N_TRAIN), y_train=rng.integers(0, 2, N_TRAIN),
             x_test=seqs(N_TEST), y_test=rng.integers(0, 2, N_TEST))


@contextlib.contextmanager
def environment(tmp: Path, keras_module):
    """A temporary KERAS_HOME with the dataset files, stand-ins for plotting and scikit-learn, and the caps
    on fit and train_on_batch of ``keras_module.Model`` (nnplay's or Keras')."""
    saved_env = os.environ.get("KERAS_HOME")
    saved_mods = {k: sys.modules.get(k) for k in ("matplotlib", "matplotlib.pyplot", "sklearn", "sklearn.datasets",
                                                  "sklearn.model_selection", "sklearn.preprocessing")}
    home = tmp / "keras-home"
    write_keras_datasets(home)
    os.environ["KERAS_HOME"] = str(home)
    real = None
    if keras_module.__name__ == "keras":
        real = importlib.import_module("keras.src.backend.config")
    saved_dir = getattr(real, "_KERAS_DIR", None)
    if real is not None:                 # real Keras read KERAS_HOME when it was imported
        real._KERAS_DIR = str(home)
    saved_plot, saved_get = None, {}
    if real is not None:                 # Keras draws with pydot and graphviz, which a test machine may lack
        saved_plot, keras_module.utils.plot_model = keras_module.utils.plot_model, lambda *a, **k: None
        for mod in ("mnist", "cifar10", "imdb"):     # and checks the real files' hashes: serve the small ones
            m = importlib.import_module(f"keras.src.datasets.{mod}")
            saved_get[m] = m.get_file
            m.get_file = lambda fname=None, origin=None, **kw: str(home / "datasets" / fname)
    fake = _fake_pyplot()
    sys.modules["matplotlib"], sys.modules["matplotlib.pyplot"] = fake, fake.pyplot
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sys.modules.update(_fake_sklearn())
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        yield
    finally:
        os.chdir(cwd)
        if real is not None:
            real._KERAS_DIR = saved_dir
            keras_module.utils.plot_model = saved_plot
            for m, fn in saved_get.items():
                m.get_file = fn
        if saved_env is None:
            os.environ.pop("KERAS_HOME", None)
        else:
            os.environ["KERAS_HOME"] = saved_env
        for k, v in saved_mods.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


@contextlib.contextmanager
def capped(model_cls, on_fit=None, on_batch=None):
    """Cap ``model_cls.fit`` and ``train_on_batch`` (see the module docstring); ``on_fit(model, x, kwargs)``
    and ``on_batch(model)`` run before each call, for parity tests."""
    fit, batch = model_cls.fit, model_cls.train_on_batch
    calls = {"batch": 0}
    histories = []

    def short(v):
        """At most MAX_SAMPLES samples of an array, of each array of a list (several inputs), or of the arrays
        an ImageDataGenerator's flow holds (nnplay's and Keras' both keep them as x, y and n)."""
        if isinstance(v, (list, tuple)) and v and all(hasattr(a, "shape") for a in v):
            return [a[:MAX_SAMPLES] for a in v]
        if hasattr(v, "image_data_generator") and hasattr(v, "n"):
            v.x, v.n = v.x[:MAX_SAMPLES], min(v.n, MAX_SAMPLES)
            v.y = None if v.y is None else v.y[:MAX_SAMPLES]
            return v
        return v[:MAX_SAMPLES] if hasattr(v, "shape") else v

    def capped_fit(self, x=None, y=None, *args, **kwargs):
        kwargs["epochs"] = min(int(kwargs.get("epochs", 1)), MAX_EPOCHS)
        x, y = short(x), short(y)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_data"] = tuple(short(v) for v in kwargs["validation_data"])
        if on_fit is not None:
            on_fit(self, x, kwargs)
        hist = fit(self, x, y, *args, **kwargs)
        histories.append(hist.history)
        return hist

    def capped_batch(self, *args, **kwargs):
        if calls["batch"] >= MAX_BATCH_CALLS:
            raise StopSnippet
        calls["batch"] += 1
        if on_batch is not None:
            on_batch(self)
        return batch(self, *args, **kwargs)

    model_cls.fit, model_cls.train_on_batch = capped_fit, capped_batch
    try:
        yield histories
    finally:
        model_cls.fit, model_cls.train_on_batch = fit, batch


def run(name: str, tmp: Path, keras: bool = False, on_fit=None, on_batch=None, seed: int = 0) -> dict:
    """Run a snippet (under real Keras when ``keras``); returns its namespace, with ``__histories__``."""
    if keras:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras as km
        model_cls = km.Model
        km.utils.set_random_seed(seed)
    else:
        from nnplay import keras as km
        model_cls = km.Model
        km.utils.set_random_seed(seed)
    code = full_code(name, keras)
    namespace: dict = {"__name__": f"seed_{name}"}
    np.random.seed(seed)
    with environment(tmp, km), capped(model_cls, on_fit, on_batch) as histories:
        write_keras_models(Path(os.environ["KERAS_HOME"]), MODEL_FILES.get(name, ()))
        try:
            exec(compile(code, str(HERE / f"{name}.py"), "exec"), namespace)
        except StopSnippet:
            pass
    namespace["__histories__"] = histories
    return namespace

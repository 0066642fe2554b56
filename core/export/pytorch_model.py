"""A nnplay model as a PyTorch ``nn.Module`` class, plus the code that loads nnplay's weights into it."""
from __future__ import annotations

from ..layers import Embedding
from .code import class_name, docstring, indent
from .graph import Graph, Step, describe, refuse
from .pytorch_augment import AFFINE_HELPER, AUGMENT_EMITTERS
from .pytorch_layers import EMITTERS, WRAPPERS
from .pytorch_recurrent import RECURRENT_EMITTERS
from .pytorch_writer import CL, ModuleWriter

HELPERS = {
    "keras_affine": AFFINE_HELPER,
    "gru_gates": '''def gru_gates(a):
    """Keras orders a GRU's gate blocks z, r, h along the last axis; PyTorch orders them r, z, n."""
    z, r, h = np.split(a, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)''',
    "Sampling": '''class Sampling(nn.Module):
    """nnplay's VAE layer: [mean | log_var] in, a latent code out. In training it draws
    mean + exp(log_var / 2) * noise (the reparameterisation trick); in eval mode it gives the mean. Every call
    also computes the KL term, beta * mean over the batch of -0.5 * sum(1 + log_var - mean^2 - exp(log_var)),
    which the training loop adds to the loss."""

    def __init__(self, beta):
        super().__init__()
        self.beta = beta
        self.kl_loss = torch.zeros(())

    def forward(self, x):
        mean, log_var = x.chunk(2, dim=-1)
        kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(dim=1)
        self.kl_loss = self.beta * kl.mean()
        if self.training:
            return mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        return mean''',
}


def emit(w: ModuleWriter, step: Step, key: str) -> None:
    """Write one layer call (dispatching on the layer's class)."""
    cls = type(step.layer)
    if cls in EMITTERS:
        EMITTERS[cls](w, step, key)
    elif cls in RECURRENT_EMITTERS:
        RECURRENT_EMITTERS[cls](w, step, key)
    elif cls in WRAPPERS:
        WRAPPERS[cls](w, step, key, emit)
    elif cls.__name__ in AUGMENT_EMITTERS:
        AUGMENT_EMITTERS[cls.__name__](w, step, key)
    else:
        raise refuse(w.to, describe(step.layer), "nnplay export does not know this layer type",
                     "use one of the layers nnplay ships (see the README)")


def module_code(graph: Graph, role: str, to: str = "pytorch") -> tuple[str, ModuleWriter, str]:
    """(the class source, its writer (load lines, helpers), the class name)."""
    model_ref = "model" if role == "model" else role
    prefix = "" if role == "model" else f"{role}/"
    w = ModuleWriter(to, model_ref, prefix)
    w.declare(graph.input_var, graph.input_shape, CL)
    for step in graph.steps:
        w.reuse = not step.first_call              # a shared layer: the same module, called again
        emit(w, step, step.layer.name)
    w.reuse = False
    w.channels_last(graph.output_var, "nnplay's outputs are channels-last")
    name = class_name(graph.name) if role == "model" else role.capitalize()
    first = graph.steps[0].layer if graph.steps else None
    shape = ", ".join(["batch", *map(str, graph.input_shape)])
    kind = "integer indices" if isinstance(first, Embedding) else "channels-last input"
    doc = (f"nnplay's model {graph.name!r}, layer by layer. It takes {kind} ({shape}) as nnplay and Keras do, "
           f"and returns what nnplay's predict() returns.")
    lines = [f"class {name}(nn.Module):"] + docstring(doc, 4) + ["", "    def __init__(self):",
                                                                 "        super().__init__()"]
    lines += indent(w.init, 8) or ["        pass"]
    lines += ["", f"    def forward(self, {graph.input_var}):"]
    if w.collects_losses:
        lines.append("        self.losses = []  # what Keras calls the layers' losses: activity penalties, "
                     "the KL term")
    if graph.input_var != "x" and not graph.functional:
        lines.append(f"        x = {graph.input_var}")
    lines += indent(w.forward, 8)
    lines.append(f"        return {graph.output_var}")
    if w.penalties:
        lines += ["", "    def penalty(self):",
                  '        """The weight penalties (kernel_regularizer, ...) Keras adds to the loss."""']
        lines += _sum_lines(w.penalties)
    return "\n".join(lines), w, name


def _sum_lines(terms: list[str]) -> list[str]:
    lines = ["        return (" + terms[0]]
    lines += ["                + " + t for t in terms[1:]]
    lines[-1] += ")"
    return lines


def load_function(writers: dict[str, ModuleWriter]) -> list[str]:
    params = ", ".join(w.model_ref for w in writers.values())
    lines = ["def put(param, array):",
             '    """Copy a NumPy array into a PyTorch parameter or buffer of the same shape."""',
             "    with torch.no_grad():",
             "        param.copy_(torch.from_numpy(np.ascontiguousarray(array)))",
             "", "",
             f"def load_weights({params}):",
             '    """Copy nnplay\'s weights (weights.npz, in Keras\' layout) in, converting each to PyTorch\'s."""',
             '    with np.load(HERE / "weights.npz") as w:']
    body = [line for w in writers.values() for line in w.load]
    lines += indent(body, 8) if body else ["        pass  # no layer has weights"]
    return lines


def helper_code(writers: dict[str, ModuleWriter]) -> list[str]:
    names = sorted({h for w in writers.values() for h in w.helpers})
    return [HELPERS[n] for n in names]

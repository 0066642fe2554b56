"""The preset's training as plain PyTorch: the loss as Keras computes it, the metrics nnplay logs, the
optimizer with a note wherever PyTorch's version differs from Keras', and the learning-rate schedule written
out as its formula."""
from __future__ import annotations

from .. import losses as L
from .code import docstring, py
from .plan import OptimizerPlan, TrainingPlan


# ------------------------------------------------------------------------------------------ loss
def loss_code(loss, units: int) -> list[str]:
    """``def loss_fn(out, y):`` for a nnplay loss (Keras' reduction: the mean over samples and positions)."""
    head = ["def loss_fn(out, y):"]
    clip = "out.clamp(1e-7, 1 - 1e-7)"
    if isinstance(loss, L.SparseCategoricalCrossentropy):
        doc = "Sparse categorical cross-entropy: y holds class indices."
        body = ([f"return F.cross_entropy(out.reshape(-1, {units}), y.reshape(-1))"] if loss.from_logits else
                [f"return F.nll_loss(torch.log({clip}).reshape(-1, {units}), y.reshape(-1))"])
    elif isinstance(loss, L.CategoricalCrossentropy):
        doc = "Categorical cross-entropy: y is one-hot."
        body = []
        if loss.label_smoothing:
            body.append(f"y = y * {py(1 - loss.label_smoothing)} + {py(loss.label_smoothing / units)}"
                        f"  # label_smoothing={loss.label_smoothing}")
        body.append("return -(y * F.log_softmax(out, dim=-1)).sum(dim=-1).mean()" if loss.from_logits else
                    "return -(y * torch.log((out / out.sum(dim=-1, keepdim=True)).clamp(1e-7, 1 - 1e-7)))"
                    ".sum(dim=-1).mean()")
    elif isinstance(loss, L.BinaryCrossentropy):
        doc = "Binary cross-entropy on probabilities, clipped as Keras clips them."
        body = ["return F.binary_cross_entropy_with_logits(out, y)" if loss.from_logits else
                f"return F.binary_cross_entropy({clip}, y)"]
        if loss.from_logits:
            doc = "Binary cross-entropy on logits."
    elif isinstance(loss, L.MeanSquaredError):
        doc, body = "Mean squared error.", ["return F.mse_loss(out, y)"]
    elif isinstance(loss, L.MeanAbsoluteError):
        doc, body = "Mean absolute error.", ["return F.l1_loss(out, y)"]
    elif isinstance(loss, L.Huber):
        doc, body = "Huber loss.", [f"return F.huber_loss(out, y, delta={py(loss.delta)})"]
    elif isinstance(loss, L.LogCosh):
        doc = "log(cosh(error)), written to stay finite for large errors."
        body = ["e = out - y", "return (e + F.softplus(-2 * e) - math.log(2)).mean()"]
    else:  # hinge, squared hinge
        power = "" if type(loss) is L.Hinge else ".square()"
        doc = "Keras' hinge: 0/1 targets count as -1/+1."
        body = ["if ((y == 0) | (y == 1)).all():", "    y = 2 * y - 1",
                f"return torch.clamp(1 - y * out, min=0){power}.mean()"]
    return head + [f'    """{doc}"""'] + ["    " + line for line in body]


def targets_code(loss, out_shape: tuple) -> list[str]:
    """``def as_targets(y):`` the labels as the loss wants them (class indices as int64, else float32 in the
    output's shape)."""
    if isinstance(loss, L.SparseCategoricalCrossentropy):
        return ["def as_targets(y):", '    """Class indices, as int64 (what PyTorch\'s losses index with)."""',
                "    return torch.as_tensor(y, dtype=torch.long)"]
    shape = ", ".join(["len(y)", *map(str, out_shape)])
    return ["def as_targets(y):", '    """Targets as float32, one per output."""',
            f"    return torch.as_tensor(y, dtype=torch.float32).reshape({shape})"]


# ------------------------------------------------------------------------------------------ metrics
def metrics_code(plan: TrainingPlan, units: int) -> tuple[list[str], list[str]]:
    """(``def metrics_fn(out, y):`` per batch, comments on the metrics left out)."""
    entries, left = [], []
    loss = plan.loss
    for key in plan.metrics:
        kind = key
        if key == "accuracy":
            kind = "sparse_categorical_accuracy" if isinstance(loss, L.SparseCategoricalCrossentropy) else \
                "binary_accuracy" if isinstance(loss, L.BinaryCrossentropy) or units == 1 else \
                "categorical_accuracy"
        expr = {"binary_accuracy": "((out > 0.5) == (y > 0.5)).float().mean()",
                "categorical_accuracy": "(out.argmax(dim=-1) == y.argmax(dim=-1)).float().mean()",
                "sparse_categorical_accuracy": "(out.argmax(dim=-1) == y.reshape(out.shape[:-1])).float().mean()",
                "mae": "(out - y).abs().mean()", "mse": "(out - y).square().mean()",
                "rmse": "(out - y).square().mean()"}.get(kind)
        if expr is None:
            left.append(f"nnplay's metric {key!r} is not computed here")
            continue
        entries.append((key, expr))
    if not entries:
        return [], left
    lines = ["def metrics_fn(out, y):",
             '    """The preset\'s metrics for one batch (means, so they average over an epoch)."""',
             "    return {"]
    lines += [f'        "{key}": {expr},' + ("  # squared here; the root is taken per epoch" if key == "rmse" else "")
              for key, expr in entries]
    return lines + ["    }"], left


# ------------------------------------------------------------------------------------------ optimizer
def optimizer_code(opt: OptimizerPlan, params: str) -> tuple[str, list[str]]:
    """(the ``torch.optim`` constructor, comments on where it differs from Keras)."""
    a, lr = opt.args, py(opt.learning_rate)
    notes: list[str] = []
    name = opt.name
    if name == "sgd":
        extra = (f", momentum={py(a['momentum'])}" if a["momentum"] else "") + \
                (", nesterov=True" if a["nesterov"] else "")
        ctor = f"torch.optim.SGD({params}, lr={lr}{extra})"
        if a["momentum"] and opt.schedule is not None:
            notes.append("Keras folds the learning rate into the momentum; PyTorch applies it after, which "
                         "differs while the rate changes")
    elif name in ("adam", "adamw"):
        cls = "AdamW" if name == "adamw" else "Adam"
        extra = ", amsgrad=True" if a["amsgrad"] else ""
        if name == "adamw":
            extra += f", weight_decay={py(opt.weight_decay)}"
        ctor = (f"torch.optim.{cls}({params}, lr={lr}, betas=({py(a['beta_1'])}, {py(a['beta_2'])}), "
                f"eps={py(a['epsilon'])}{extra})")
        if a.get("epsilon_mode", "keras") == "keras":
            notes.append("PyTorch adds eps after the bias correction, Keras (and nnplay) before: the same unless "
                         "the gradients are tiny. Keras' default eps is 1e-7, PyTorch's 1e-8.")
        else:
            notes.append("Keras' default eps is 1e-7, PyTorch's 1e-8.")
    elif name == "rmsprop":
        extra = (f", momentum={py(a['momentum'])}" if a["momentum"] else "") + \
                (", centered=True" if a["centered"] else "")
        ctor = f"torch.optim.RMSprop({params}, lr={lr}, alpha={py(a['rho'])}, eps={py(a['epsilon'])}{extra})"
        notes.append("Keras' rho is PyTorch's alpha (its default is 0.99, Keras' 0.9); Keras adds eps inside the "
                     "square root, PyTorch outside")
    elif name == "adagrad":
        ctor = (f"torch.optim.Adagrad({params}, lr={lr}, initial_accumulator_value="
                f"{py(a['initial_accumulator_value'])}, eps={py(a['epsilon'])})")
        notes.append("Keras starts the accumulator at 0.1 (PyTorch at 0) and adds eps inside the square root")
    elif name == "adadelta":
        ctor = f"torch.optim.Adadelta({params}, lr={lr}, rho={py(a['rho'])}, eps={py(a['epsilon'])})"
        notes.append("Keras' default learning rate is 0.001, PyTorch's 1.0")
    else:  # nadam
        ctor = (f"torch.optim.NAdam({params}, lr={lr}, betas=({py(a['beta_1'])}, {py(a['beta_2'])}), "
                f"eps={py(a['epsilon'])}, momentum_decay=1.0)")
        notes.append("momentum_decay=1.0 gives Keras' momentum schedule beta_1 * (1 - 0.5 * 0.96**t) "
                     "(PyTorch's default is 0.004)")
    return ctor, notes


def step_extras(opt: OptimizerPlan, params: str, lr: str) -> list[str]:
    """Lines between ``backward()`` and ``step()``: Keras' gradient clipping and decoupled weight decay."""
    out = []
    if opt.clip is not None:
        kind, value = opt.clip
        if kind == "clipnorm":
            out += [f"for p in {params}:", f"    torch.nn.utils.clip_grad_norm_([p], {py(value)})  # Keras' clipnorm: "
                                          f"each weight's gradient on its own"]
        elif kind == "global_clipnorm":
            out.append(f"torch.nn.utils.clip_grad_norm_({params}, {py(value)})  # global_clipnorm")
        else:
            out.append(f"torch.nn.utils.clip_grad_value_({params}, {py(value)})  # clipvalue")
    if opt.weight_decay and opt.name != "adamw":
        out += ["with torch.no_grad():  # Keras' weight_decay: shrink the weights before the step (decoupled)",
                f"    for p in {params}:",
                f"        p.mul_(1 - {lr} * {py(opt.weight_decay)})"]
    return out


# ------------------------------------------------------------------------------------------ schedules
def schedule_code(sched) -> list[str]:
    """``def learning_rate(step):`` the schedule's formula (step = optimizer updates done so far)."""
    c = sched.get_config()
    kind = c["type"]
    init = py(c.get("initial_learning_rate", 0.0))
    args = ", ".join(f"{k}={py(v)}" for k, v in c.items() if k not in ("type", "name"))
    lines = ["def learning_rate(step):"] + docstring(f"{kind}({args}), as Keras computes it from the step count "
                                                   f"(optimizer updates done so far).", 4)
    if kind in ("exponential_decay", "inverse_time_decay"):
        lines.append(f"    p = step / {py(c['decay_steps'])}")
        if c.get("staircase"):
            lines.append("    p = math.floor(p)")
        lines.append(f"    return {init} * {py(c['decay_rate'])} ** p" if kind == "exponential_decay" else
                     f"    return {init} / (1 + {py(c['decay_rate'])} * p)")
    elif kind == "piecewise_constant_decay":
        lines += [f"    for boundary, value in zip({py(tuple(c['boundaries']))}, {py(tuple(c['values']))}):",
                  "        if step <= boundary:", "            return value", f"    return {py(c['values'][-1])}"]
    elif kind == "polynomial_decay":
        ds, end, power = py(c["decay_steps"]), py(c["end_learning_rate"]), py(c["power"])
        if c.get("cycle"):
            lines.append(f"    decay_steps = {ds} * max(1, math.ceil(step / {ds}))")
        else:
            lines += [f"    decay_steps = {ds}", f"    step = min(step, {ds})"]
        lines.append(f"    return ({init} - {end}) * (1 - step / decay_steps) ** {power} + {end}")
    elif kind == "cosine_decay":
        ds, alpha = py(c["decay_steps"]), py(c["alpha"])
        if c.get("warmup_target") is not None:
            ws, target = py(c["warmup_steps"]), py(c["warmup_target"])
            lines += [f"    step = min(step, {ds} + {ws})", f"    if step < {ws}:",
                      f"        return {init} + ({target} - {init}) * step / {ws}",
                      f"    cosine = 0.5 * (1 + math.cos(math.pi * (step - {ws}) / {ds}))",
                      f"    return {target} * ((1 - {alpha}) * cosine + {alpha})"]
        else:
            lines += [f"    cosine = 0.5 * (1 + math.cos(math.pi * min(step, {ds}) / {ds}))",
                      f"    return {init} * ((1 - {alpha}) * cosine + {alpha})"]
    elif kind == "cosine_decay_restarts":
        first, t_mul, m_mul, alpha = (py(c[k]) for k in ("first_decay_steps", "t_mul", "m_mul", "alpha"))
        lines.append(f"    fraction = step / {first}")
        if c["t_mul"] == 1.0:
            lines += ["    i = math.floor(fraction)", "    done = fraction - i"]
        else:
            lines += [f"    i = math.floor(math.log(1 - fraction * (1 - {t_mul})) / math.log({t_mul}))",
                      f"    done = (fraction - (1 - {t_mul} ** i) / (1 - {t_mul})) / {t_mul} ** i"]
        lines += [f"    cosine = 0.5 * {m_mul} ** i * (1 + math.cos(math.pi * done))",
                  f"    return {init} * ((1 - {alpha}) * cosine + {alpha})"]
    else:  # step_decay (nnplay's own)
        lines.append(f"    return {init} * {py(c['drop'])} ** (step // {py(c['every'])})")
    return lines

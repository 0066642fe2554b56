"""``model_pytorch.py``: the model as an ``nn.Module`` (channels-last in and out, permutes written where a
layer needs channels first), nnplay's weights converted on load, the preset's data, a plain training loop
that prints the loss and metrics per epoch (a GAN's loop as nnplay runs it), and ``--check``."""
from __future__ import annotations

import re

from ..layers import BatchNormalization
from .code import comment_lines, py, with_comment
from .common import TOLERANCE, ScriptInfo, argument_parser, check_lines, data_loader, header
from .graph import Graph
from .plan import TrainingPlan
from .pytorch_model import helper_code, load_function, module_code
from .pytorch_training import loss_code, metrics_code, optimizer_code, schedule_code, step_extras, targets_code
from .pytorch_writer import ModuleWriter

#: Per-epoch means of the summed batch logs (optionally passed through ``finish``).
MEANS = "{wrap}{{key: value / {n} for key, value in sums.items()}}{end}"


def _stop_lines(plan: TrainingPlan, has_val: bool) -> tuple[list[str], list[str], list[str]]:
    """(lines before the epochs, lines after each epoch's logs, lines after training) for [training.stop]."""
    s = plan.stop
    before, each, after = [], [], []
    if s is None:
        return before, each, after
    if s.target_loss is not None:
        each += [f'if logs["loss"] <= {py(s.target_loss)}:  # [training.stop] target_loss',
                 f'    print("stopped: loss reached {s.target_loss:g}")', "    break"]
    if s.target_accuracy is not None:
        key = "val_accuracy" if has_val else "accuracy"
        each += [f'if logs["{key}"] >= {py(s.target_accuracy)}:  # [training.stop] target_accuracy',
                 f'    print("stopped: {key} reached {s.target_accuracy:g}")', "    break"]
    if s.patience is not None:
        monitor = s.monitor or ("val_loss" if has_val else "loss")
        higher = "acc" in monitor or monitor.endswith("r2")
        delta = f" + {py(s.min_delta)}" if s.min_delta else ""
        minus = f" - {py(s.min_delta)}" if s.min_delta else ""
        before += [f"best, wait = float(\"{'-inf' if higher else 'inf'}\"), 0"
                   f"  # [training.stop] patience {s.patience} on {monitor}"]
        better = f'logs["{monitor}"] > best{delta}' if higher else f'logs["{monitor}"] < best{minus}'
        each += [f"if {better}:", f'    best, wait = logs["{monitor}"], 0']
        if s.restore_best_weights:
            each.append("    best_state = copy.deepcopy(model.state_dict())")
            before.append("best_state = copy.deepcopy(model.state_dict())")
            after.append("model.load_state_dict(best_state)  # restore_best_weights")
        each += ["else:", "    wait += 1", f"    if wait >= {s.patience}:",
                 f'        print("stopped: no better {monitor} for {s.patience} epochs")', "        break"]
    return before, each, after


def _train(info: ScriptInfo, graph: Graph, w: ModuleWriter) -> list[str]:
    plan = info.plan
    ae = plan.kind == "autoencoder"
    opt = plan.optimizer
    has_val = plan.validation != "none"
    ctor, notes = optimizer_code(opt, "model.parameters()")
    doc = "on input = target, as an autoencoder learns" if ae else "as the preset says"
    lines = ["def train(model, epochs):",
             f'    """Train {doc}: shuffled batches, one optimizer step each, the loss and metrics per epoch."""',
             "    torch.manual_seed(SEED)"]
    if ae:
        lines += ["    x_train, x_test = (torch.from_numpy(a) for a in load_data())",
                  "    y_train, y_test = x_train, x_test"]
    else:
        lines += ["    x_train, y_train, x_test, y_test = load_data()",
                  "    x_train, x_test = torch.from_numpy(x_train), torch.from_numpy(x_test)",
                  "    y_train, y_test = as_targets(y_train), as_targets(y_test)"]
    if plan.validation == "split":
        lines += [f"    x_train, x_val = x_train[:{plan.n_train}], x_train[{plan.n_train}:]  # validation = \"split\": "
                  f"the last {plan.validation_split:.0%} validate",
                  f"    y_train, y_val = y_train[:{plan.n_train}], y_train[{plan.n_train}:]"]
    elif plan.validation == "test":
        lines.append("    x_val, y_val = x_test, y_test")
    lines += [line for n in notes for line in comment_lines(n, 4)]
    lines.append(f"    optimizer = {ctor}")
    if opt.schedule is not None:
        lines.append(f"    step = 0  # optimizer steps so far: the schedule's clock ({plan.steps_per_epoch} per epoch)")
    before, each, after = _stop_lines(plan, has_val)
    lines += ["    " + line for line in before]
    order = "torch.randperm(len(x_train))" if plan.shuffle else "torch.arange(len(x_train))"
    lines += ["    for epoch in range(epochs):",
              "        model.train()",
              f"        order = {order}",
              "        sums, seen = {}, 0",
              "        for start in range(0, len(x_train), BATCH_SIZE):",
              "            batch = order[start:start + BATCH_SIZE]",
              "            x, y = x_train[batch], y_train[batch]"]
    if opt.schedule is not None:
        lines += ["            for group in optimizer.param_groups:",
                  '                group["lr"] = learning_rate(step)']
    lines += ["            out = model(x)",
              "            loss = total_loss(model, out, y)",
              "            optimizer.zero_grad()",
              "            loss.backward()"]
    lr = "learning_rate(step)" if opt.schedule is not None else py(opt.learning_rate)
    lines += ["            " + line for line in step_extras(opt, "model.parameters()", lr)]
    lines.append("            optimizer.step()")
    if opt.schedule is not None:
        lines.append("            step += 1")
    lines += ["            for key, value in logs_of(loss, out.detach(), y).items():",
              "                sums[key] = sums.get(key, 0.0) + value * len(batch)",
              "            seen += len(batch)",
              "        logs = " + (MEANS.format(wrap="finish(", n="seen", end=")") if "rmse" in plan.metrics
                                  else MEANS.format(wrap="", n="seen", end=""))]
    if has_val:
        lines.append('        logs.update({f"val_{key}": value '
                     'for key, value in evaluate(model, x_val, y_val).items()})')
    lines.append('        print(f"epoch {epoch + 1}/{epochs} - " '
                 '+ " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))')
    lines += ["        " + line for line in each]
    lines += ["    " + line for line in after]
    lines.append('    print("test:", evaluate(model, x_test, y_test))')
    return lines


def _logs_helpers(plan: TrainingPlan, w: ModuleWriter, has_metrics: bool) -> list[str]:
    parts = ["loss_fn(out, y)"] + (["model.penalty()"] if w.penalties else []) + \
        (["sum(model.losses)"] if w.collects_losses else [])
    metrics = "**{key: value.item() for key, value in metrics_fn(out, y).items()}" if has_metrics else ""
    rmse = "rmse" in plan.metrics
    lines = ["def total_loss(model, out, y):",
             '    """The loss as Keras adds it up: the loss function' +
             (", the weight penalties" if w.penalties else "") + (", the layers' own losses" if w.collects_losses
                                                                 else "") + '."""',
             f"    return {' + '.join(parts)}", "", "",
             "def logs_of(loss, out, y):",
             '    """One batch\'s numbers for the epoch\'s log."""',
             "    return {\"loss\": loss.item()" + (f", {metrics}" if metrics else "") + "}", "", "",
             ]
    if rmse:
        lines += ["def finish(logs):",
                  '    """Per-epoch means -> what is printed: the root of the mean squared error for rmse."""',
                  '    logs["rmse"] = math.sqrt(logs["rmse"])',
                  "    return logs", "", ""]
    means = MEANS.format(wrap="finish(" if rmse else "", n="len(x)", end=")" if rmse else "")
    lines += ["def evaluate(model, x, y):",
              '    """Loss and metrics in eval mode (no dropout or noise; BatchNorm\'s moving statistics), as '
              'Keras\' evaluate."""',
              "    model.eval()",
              "    sums = {}",
              "    with torch.no_grad():",
              "        for start in range(0, len(x), 256):",
              "            out, y_batch = model(x[start:start + 256]), y[start:start + 256]",
              "            for key, value in logs_of(total_loss(model, out, y_batch), out, y_batch).items():",
              "                sums[key] = sums.get(key, 0.0) + value * len(y_batch)",
              f"    return {means}"]
    return lines


def _train_gan(info: ScriptInfo, writers: dict[str, ModuleWriter], graphs: dict[str, Graph]) -> list[str]:
    plan = info.plan
    d_shape = ", ".join(map(str, graphs["discriminator"].output_shape))
    g_ctor, g_notes = optimizer_code(plan.optimizer, "generator.parameters()")
    d_ctor, _ = optimizer_code(plan.d_optimizer, "discriminator.parameters()")
    g_pen = " + generator.penalty()" if writers["generator"].penalties else ""
    d_pen = " + discriminator.penalty()" if writers["discriminator"].penalties else ""
    g_extra = step_extras(plan.optimizer, "generator.parameters()", py(plan.optimizer.learning_rate))
    d_extra = step_extras(plan.d_optimizer, "discriminator.parameters()", py(plan.d_optimizer.learning_rate))
    lines = [
        "def bce(out, y):",
        '    """Binary cross-entropy on probabilities, clipped as Keras clips them."""',
        "    return F.binary_cross_entropy(out.clamp(1e-7, 1 - 1e-7), y)",
        "", "",
        "def train(generator, discriminator, epochs):",
        '    """The GAN loop as nnplay runs it: per batch, K discriminator steps on real samples (labelled',
        "    1 - LABEL_SMOOTHING, minus up to LABEL_NOISE) and as many fakes (labelled 0, plus up to LABEL_NOISE),",
        '    then G_STEPS generator steps through the discriminator, aiming at "real"."""',
        "    torch.manual_seed(SEED)",
        "    (x_real,) = load_data()",
        "    x_real = torch.from_numpy(x_real)"]
    lines += [line for n in g_notes for line in comment_lines(n, 4)]
    lines += [f"    d_optimizer = {d_ctor}", f"    g_optimizer = {g_ctor}",
              "    steps = max(1, len(x_real) // (BATCH_SIZE * K))",
              "    for epoch in range(epochs):",
              "        generator.train()",
              "        order = torch.randperm(len(x_real))",
              '        sums = dict.fromkeys(("d_loss", "g_loss", "d_real", "d_fake"), 0.0)',
              "        for b in range(steps):",
              "            discriminator.train()",
              "            for j in range(K):",
              "                real = x_real[order[(b * K + j) * BATCH_SIZE:(b * K + j + 1) * BATCH_SIZE]]",
              "                n = len(real)",
              "                with torch.no_grad():",
              "                    fake = generator(torch.randn(n, LATENT_DIM))",
              f"                y_real = torch.full((n, {d_shape}), 1.0 - LABEL_SMOOTHING)",
              f"                y_fake = torch.zeros((n, {d_shape}))",
              "                if LABEL_NOISE:",
              "                    y_real -= LABEL_NOISE * torch.rand_like(y_real)",
              "                    y_fake += LABEL_NOISE * torch.rand_like(y_fake)",
              "                out = discriminator(torch.cat([real, fake]))",
              f"                d_loss = bce(out, torch.cat([y_real, y_fake])){d_pen}",
              "                d_optimizer.zero_grad()",
              "                d_loss.backward()"]
    lines += ["                " + line for line in d_extra]
    lines += ["                d_optimizer.step()",
              '                sums["d_loss"] += d_loss.item() / K',
              '                sums["d_real"] += out[:n].mean().item() / K',
              '                sums["d_fake"] += out[n:].mean().item() / K',
              "            for _ in range(G_STEPS):"]
    if any(isinstance(s.layer, BatchNormalization) for s in graphs["discriminator"].steps):
        lines += ["                for m in discriminator.modules():  # nnplay and Keras 3 run a frozen "
                  "BatchNormalization in inference mode",
                  "                    if isinstance(m, nn.modules.batchnorm._BatchNorm):",
                  "                        m.eval()"]
    lines += ["                out = discriminator(generator(torch.randn(BATCH_SIZE, LATENT_DIM)))",
              f"                g_loss = bce(out, torch.ones_like(out)){g_pen}",
              "                g_optimizer.zero_grad()",
              "                g_loss.backward()"]
    lines += ["                " + line for line in g_extra]
    lines += ["                g_optimizer.step()  # moves the generator only: the discriminator has its own optimizer",
              '                sums["g_loss"] += g_loss.item() / G_STEPS',
              '        print(f"epoch {epoch + 1}/{epochs} - " '
              '+ " - ".join(f"{k}: {v / steps:.4f}" for k, v in sums.items()))']
    return lines


def pytorch_script(info: ScriptInfo, graphs: dict[str, Graph]) -> str:
    """The whole script."""
    plan = info.plan
    gan = plan.kind == "gan"
    classes, writers = [], {}
    for role, graph in graphs.items():
        source, w, name = module_code(graph, role, info.to)
        classes.append((role, source, name))
        writers[role] = w
    needs = ("Needs PyTorch 2 and NumPy (neither nnplay nor Keras). The model takes and returns channels-last "
             "tensors, as nnplay does, and permutes to PyTorch's channels-first layout only around the layers "
             "that need it.")
    body: list[str] = []
    for block in helper_code(writers):
        body += ["", "", block]
    for role, source, _ in classes:
        body += ["", "", source]
    body += ["", ""] + load_function(writers)
    body += ["", ""] + data_loader(info)
    if gan:
        body += ["", ""] + _train_gan(info, writers, graphs)
    else:
        graph, w = graphs["model"], writers["model"]
        units = graph.output_shape[-1] if graph.output_shape else 1
        if plan.kind != "autoencoder":
            body += ["", ""] + targets_code(plan.loss, graph.output_shape)
        body += ["", ""] + loss_code(plan.loss, units)
        metric_lines, left = metrics_code(plan, units)
        if metric_lines:
            body += ["", ""] + [f"# {text}" for text in left] + metric_lines
        if plan.optimizer.schedule is not None:
            body += ["", ""] + schedule_code(plan.optimizer.schedule)
        body += ["", ""] + _logs_helpers(plan, w, bool(metric_lines))
        body += ["", ""] + _train(info, graph, w)
    body += ["", "", "def predict(model, x):", '    """The model\'s outputs in eval mode, as NumPy."""',
             "    model.eval()", "    with torch.no_grad():", "        return model(torch.from_numpy(x)).numpy()"]
    body += ["", ""] + check_lines("predict(model, inputs)")
    body += ["", ""] + _main(info, classes)
    text = "\n".join(body)
    imports = ["import argparse"] + (["import copy"] if re.search(r"\bcopy\.", text) else []) + \
        (["import math"] if re.search(r"\bmath\.", text) else []) + ["import sys", "from pathlib import Path", "",
                                                                     "import numpy as np", "import torch"]
    if re.search(r"\bF\.", text):
        imports.append("import torch.nn.functional as F")
    imports.append("from torch import nn")
    consts = ["", "HERE = Path(__file__).resolve().parent", f"EPOCHS = {plan.epochs}",
              f"BATCH_SIZE = {plan.batch_size}", f"SEED = {plan.seed}",
              *with_comment(f"TOLERANCE = {TOLERANCE}", "--check: the largest difference from nnplay's outputs that "
                                                        "passes")]
    if gan:
        consts += [f"{k.upper()} = {py(v)}" for k, v in plan.gan.items()]
    out = header(info, needs) + imports + consts + body
    return "\n".join(out) + "\n"


def _main(info: ScriptInfo, classes) -> list[str]:
    lines = ["def main():"] + argument_parser(info)
    if info.plan.kind == "gan":
        names = {role: name for role, _, name in classes}
        lines += [f"    generator, discriminator = {names['generator']}(), {names['discriminator']}()",
                  "    load_weights(generator, discriminator)",
                  "    if args.check:",
                  "        return check(generator)",
                  "    train(generator, discriminator, args.epochs)"]
    else:
        lines += [f"    model = {classes[0][2]}()",
                  "    load_weights(model)",
                  "    if args.check:",
                  "        return check(model)",
                  "    train(model, args.epochs)"]
    return lines + ["    return 0", "", "", 'if __name__ == "__main__":', "    sys.exit(main())"]

"""The help screen: what every view shows, how to read it, and every key."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# nnplay — how to read the playground

*Esc, ? or q closes this help; ↑ ↓ and PgUp/PgDn scroll it.*

**Left: the setup.** *Data* picks a dataset and its parameters (samples, noise, train ratio, input
features). *Network* is the layer stack, input at the top and output at the bottom, each row with its output
shape; an impossible stack turns red and says which layer and shapes clash — before any training.
*Training* picks the loss, optimizer, learning rate, batch size, regularization, clipping and schedule.
Any change except the learning rate starts again from fresh weights; the learning rate changes live.
*pace* slows training down to a few epochs a second, to watch a fast run learn (it is not saved in presets).

**Top line.** Run state, dataset, epoch, training and validation loss and accuracy (or the metric), the
learning rate, samples per second while running, and whether the compiled kernels are ready (the first start
ever compiles them; after that they load from a cache).

## The views (keys 1–5)

1. **Output.** For 2-D data: the network's output over the plane. Orange and blue are the two classes (or
   negative and positive values); the stronger the colour, the surer the network. Bright dots are the
   training points (t adds the pale test points); a dot on the other colour is misclassified. d switches to
   the hard decision (discretize). The small pictures on the right are every input feature and hidden unit
   over the same plane — the output is built from them. For images: the confusion matrix and test samples;
   for sequences: test inputs with the target and the network's answer; for char models: text the network
   writes. Autoencoders: originals above their reconstructions, and beside them the latent space — each test
   sample's bottleneck code as a point, coloured by its class (PCA to 2-D when the code is wider; anomaly
   detection adds how well the error separates the held-out class). GANs: the generator's samples from a
   fixed noise batch, bright over the dim real data with the modes covered (2-D), or a grid of images. The
   layer stack is the generator; + / - set both players' learning rate. Curves show d_loss and g_loss, and
   D(real) / D(fake), the discriminator's mean belief that real and generated samples are real.
2. **Curves.** Loss and accuracy (or the regression metric) per epoch, training in orange, validation in
   cyan. Validation rising while training falls is overfitting: add data, dropout or regularization.
3. **Inside.** One layer for one sample ( , . change the layer, < > the sample). Conv layers: the feature
   maps (what each filter found) and the learned filters; s switches between one colour scale for all maps
   (compare strengths) and one per map (see shapes). Recurrent layers: hidden state and gates as units × time.
   For 2-D data: large per-unit pictures.
4. **Model.** The summary (layers, output shapes, parameters) with the size of each layer's weights and
   gradients, and the health check: dead ReLUs (units that never fire), saturated tanh/sigmoid units (stuck at
   ±1, so they stop learning), exploding or vanishing gradients. Also the speed and the kernels' state.
5. **Errors.** The confusion matrix on the test set: rows are the true class, columns the prediction; the
   diagonal is right. For images: test samples with predictions, wrong ones marked ✗.

**Bottom line.** The most important health finding. When the loss becomes NaN or infinite, training
pauses and this line says where it blew up and what to try (usually a lower learning rate or clipping).

## Keys

| key | does |
|---|---|
| space | run / pause training |
| n | one batch, then pause (single step) |
| r | reset: fresh weights, same setup |
| g | regenerate the data (new data seed) and reset |
| + / - (or ] [ ) | learning rate × 2 / ÷ 2, live |
| 1 … 5 | switch view; 0 shows the setup when the screen is narrow |
| tab / shift+tab | move between panels |
| ↑ ↓ ← → enter | pick a setting, change it, type it (↑ ↓ stay in their panel) |
| a, x, enter, c | network: add, remove, edit a layer, cycle its activation; ← → units |
| f, F | network: freeze / unfreeze the selected layer (❄); freeze / unfreeze a [model.base] |
| shift+↑ / shift+↓ | network: move a layer |
| d, t | output view: discretize, show test points |
| , . < > s | inside view: layer, sample, colour scale |
| ctrl+p | command palette: open a preset, save the setup as a preset, … |
| ctrl+s, ctrl+o | save the setup as a preset; open a preset, a share string or a saved model |
| l | share: the setup as one line (nnplay1:…), copied to the clipboard |
| e | export: the model, trained as far as it got, as a Keras or PyTorch script with its weights |
| v, V | open one of the preset's variants; train all variants side by side (compare mode) |
| b | A/B: keep this setup as A; change one thing, press b again: A and B train side by side |
| ? | this help |
| q | quit |

The mouse works too: click a panel or a row, click ‹ › to change a value.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss(None)", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

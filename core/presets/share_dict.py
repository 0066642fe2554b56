"""The preset dictionary of the ``nnplay1`` share-string format (see :mod:`.share`): FROZEN.

Deflate starts every ``nnplay1`` string with this text already in its window, so a string may point back at
anything in it instead of spelling it out. Every ``nnplay1:`` string ever made depends on these exact bytes:
changing one character here silently breaks them all (``tests/core/test_share.py`` pins the hash). A better
dictionary is a new format version (``DICTIONARY_V2`` read by ``nnplay2:``), never an edit of this one.

Two parts, the most often used last (near the data, where deflate's back-references are cheapest):

* the descriptions of the presets nnplay shipped when the format was made, JSON-escaped as they appear in a
  string (``\\n`` for a line break). A learner's tweak of a shipped preset keeps its description and costs a
  few bytes for it; any other text still finds the machine-learning words and phrases in them. Later edits
  of the shipped presets do not change this text.
* nnplay's key names and common values, as the compact JSON of :mod:`.share` writes them.
"""
from __future__ import annotations

_DESCRIPTIONS = (
    # perceptron-xor
    "A single neuron cannot learn XOR: it fails on purpose.\\nOne sigmoid unit draws one straight line, and no "
    "straight line puts the two same-sign quadrants on one side and the two opposite-sign quadrants on the "
    "other. Test accuracy stays near chance; the target says it stays below 75%. Run the `xor` preset to see "
    "one hidden layer fix it.",
    # xor
    "XOR needs a hidden layer: eight tanh units bend the boundary around the quadrants.\\nCompare with "
    "`perceptron-xor`, the same data with no hidden layer. Each hidden unit learns one line; the output unit "
    "combines them into the checkerboard the single neuron could not draw.",
    # circle
    "A disc inside a ring: a small hidden layer learns a closed, round boundary.\\nWith only x1 and x2 as "
    "inputs no single line separates the classes; a few tanh units each cut a side and together they enclose "
    'the disc. Try `--set data.features=\'[\\"x1^2\\", \\"x2^2\\"]\'` and a single output neuron: with squared '
    "features the problem becomes linear.",
    # gauss
    "Two Gaussian clusters: linearly separable, so one neuron (logistic regression) is enough.\\nThe whole "
    "model is a weighted sum of x1 and x2 through a sigmoid; its boundary is the straight line where that sum "
    "is zero. Raise data.noise to see the clusters overlap and the accuracy ceiling fall.",
    # spiral
    "Two interleaved spirals: the classic hard playground set, solved by depth and extra features.\\nRaw x1, "
    "x2 need many units to follow the arms. Giving the network sin(x1), sin(x2) and products as inputs, and "
    "two hidden layers, lets it wrap its boundary around the spiral in a few hundred epochs.",
    # moons
    "Overfitting: a big network memorises 60 noisy points and generalises worse than it trains.\\nTwo 128-unit "
    "layers have far more weights than there are samples. The training loss falls below 0.1 (the target) "
    "while the test loss turns back up past 1: the network has learned the noise, not the moons. Run "
    "`moons-dropout` for the same data and network with dropout.",
    # moons-dropout
    "Dropout against overfitting: the `moons` network again, with half its hidden units dropped at "
    "random.\\nEach training step switches off a random 50% of the hidden units, so no unit can rely on a few "
    "others to memorise single points. Training accuracy stays below 100%, and the test loss ends far below "
    "the undropped network's (the target: under 0.75, against about 1.3 for `moons`).",
    # l1-sparsity
    "L1 regularization makes weights sparse: the network keeps only the inputs it needs.\\nThe circle data "
    "gets all seven playground features, but only x1^2 and x2^2 matter. An L1 penalty on every kernel drives "
    "the useless weights to (almost) zero; open the model in the playground (or load model.npz) to see most "
    "input weights vanish while test accuracy stays high. Compare --set training.regularization.l1=0 to see "
    "the dense solution.",
    # reg-plane
    "Regression on a plane: one linear neuron is linear regression, trained by gradient descent.\\nThe target "
    "is (x1 + x2) / 10. A Dense(1) layer with no activation computes w1*x1 + w2*x2 + b, and minimising the "
    "mean squared error drives w1 and w2 to 0.1 and b to 0 (the target: test MSE under 1e-4).",
    # reg-gauss
    "Regression of six Gaussian bumps: hidden units build a bumpy surface piece by piece.\\nEach target value "
    "is the sum of signed Gaussian bumps over the plane. Two tanh layers learn a smooth surface that rises "
    "and falls with them; a cosine learning-rate schedule lets the last epochs settle.",
    # optimizers
    "SGD vs momentum vs Adam: the same network, data and seed, three optimizers.\\nPlain SGD takes small, "
    "equal steps and is still far from the answer after 20 epochs; momentum accumulates speed along "
    "consistent directions; Adam scales each weight's step by its own gradient history and gets there first. "
    "Each variant states what it reaches in 20 epochs.",
    "plain SGD, learning rate 0.01: slow and steady",
    "SGD with momentum 0.9: the same steps, accumulated",
    "Adam, learning rate 0.01: a step size per weight",
    # mnist-mlp
    "An MLP reads digits: flatten each 16x16 image into 256 inputs, one hidden layer, ten softmax "
    "outputs.\\nThe font-digits set is MNIST's little offline cousin: digits 0-9 from a 5x7 font, shifted, "
    "rotated, scaled and noised. A plain dense network gets most of them right, but it sees pixels, not "
    "strokes: compare `cnn-font-digits`.",
    # cnn-font-digits
    "A small CNN reads digits with a fraction of the MLP's weights: filters slide over the image.\\nEach 3x3 "
    "filter is one small pattern detector (an edge, a corner, a stroke end) applied at every position, so the "
    "network learns strokes once, wherever they are; pooling then keeps what was found and forgets exactly "
    "where. Compare its parameter count and accuracy with `mnist-mlp`.",
    # cnn-shapes
    "A small CNN tells six shapes apart: circle, square, triangle, plus, cross and line outlines.\\nThe first "
    "convolution finds short edges and their directions; the second combines them into corners, curves and "
    "crossings, the parts that distinguish one outline from another wherever it is drawn. Raise data.noise to "
    "see how much pixel noise the filters tolerate.",
    # rnn-sine
    "A SimpleRNN predicts the next value of a sine wave from the previous 20.\\nThe recurrent layer reads the "
    "window one step at a time, carrying a 16-number state; from the state at the end a Dense layer reads off "
    "the next value. Short windows of a smooth signal are easy even for the simplest recurrence; compare "
    "`lstm-sine` and `memory-first-symbol` for where it struggles.",
    # lstm-sine
    "An LSTM predicts the next value of a sine wave: the same task as `rnn-sine`, with gates.\\nEach LSTM unit "
    "has a cell that input, forget and output gates write, keep and read. For a smooth 20-step window the "
    "gates are not needed and the simple RNN does as well; they pay off when something must be remembered for "
    "long (see `memory-first-symbol`). Four gates cost four times the weights.",
    # memory-first-symbol
    "Long memory: SimpleRNN vs LSTM vs GRU on remembering the first of 40 symbols.\\nOnly the first step of "
    "each sequence decides the answer; the 39 after it are distractors. An 8-unit SimpleRNN must carry the "
    "symbol through 39 squashing updates and its gradient fades on the way back: it stays far below 60% "
    "(chance is 25%) at any learning rate from 0.001 to 0.03. The gates of an LSTM or a GRU can hold the "
    "first symbol unchanged, and both learn the task perfectly. Each variant states its target.",
    "SimpleRNN: the gradient from step 1 fades over 39 steps",
    "LSTM: the cell carries the first symbol",
    "GRU: the update gate keeps the first symbol",
    # gru-parity
    "A GRU computes the parity of 8 bits: XOR over time, one bit at a time.\\nThe answer flips with every 1 in "
    "the sequence, so the network must keep one bit of state exactly and update it at each step; no single "
    "input says anything about the answer. A GRU's update gate learns when to overwrite its state.",
    # char-lstm
    "A character-level LSTM learns to write: it predicts the next character of sentences from a small "
    "grammar.\\nEach input is 20 characters of text; an Embedding turns each character into a vector, an LSTM "
    "reads them in order, and a softmax over the 34-character vocabulary guesses what comes next. It learns "
    "spelling, spaces and full stops first, then words that fit the grammar.",
    # anomaly-detection
    "Anomaly detection by reconstruction error: the autoencoder trains on every digit except 4, so "
    "it\\nreconstructs 4s badly. Flag a test image as anomalous when its error is above the 95th percentile of "
    "the\\ntraining errors, then read precision and recall on normal test digits vs the held-out 4s, and the "
    "ROC AUC\\nof the error as an anomaly score (0.5 = chance, 1 = perfect).\\n",
    # autoencoder
    "An autoencoder learns to copy its input through a narrow bottleneck: 256 pixels squeezed into 32 "
    "numbers\\nand back. The target is the input itself. Compare the reconstructions with the originals, and "
    "the\\nreconstruction error with the mean-image baseline (always answering the average digit).\\n",
    # conv-autoencoder
    "A convolutional autoencoder (Keras' tutorial layout): Conv2D and MaxPooling2D halve the image twice "
    "to\\na 4x4x8 bottleneck, then Conv2D and UpSampling2D grow it back. Convolutions share weights across "
    "the\\nimage, so this model has far fewer parameters than the dense autoencoder.\\n",
    # denoising-autoencoder
    "A denoising autoencoder sees noisy digits but is scored against the clean ones. The GaussianNoise "
    "layer\\nadds noise only while training; at test time it passes the input through. Feed it noisy digits "
    "and it\\nreturns cleaner ones than it was given: compare MSE(model(noisy), clean) with MSE(noisy, "
    "clean).\\n",
    # gan-digits
    "An MLP GAN on 16x16 font digits. The generator maps 32 random numbers to an image; the "
    "discriminator\\nscores images as real or fake. classes_covered counts the digits the samples resemble "
    "most (by their\\nnearest real image): a collapsed generator draws only a few kinds of digit. high_quality "
    "is the fraction\\nof samples as close to a real digit as 95% of real test digits are.\\n",
    # gan-ring
    "A GAN on eight Gaussian blobs in a ring. The generator turns random noise into points; "
    "the\\ndiscriminator learns to tell them from real ones; they train in turns (k discriminator steps, then "
    "one\\ngenerator step through the frozen discriminator). Watch modes_covered: a generator that covers only "
    "a\\nfew blobs has mode-collapsed, even when each of its samples looks real (high_quality). Tricks from "
    "the\\ntutorials: Adam with beta_1 = 0.5 and one-sided label smoothing (real labels 0.9).\\n",
    # sparse-autoencoder
    "A sparse autoencoder pays an L1 penalty on its bottleneck activity, so most code units stay at zero "
    "for\\nany one digit. Watch the latent view: fewer units light up than in the plain autoencoder, while "
    "the\\nreconstructions stay recognisable. Raise l1 to trade reconstruction for sparsity.\\n",
    # vae
    "A variational autoencoder encodes each digit as a Gaussian in a 2-D latent space: the encoder outputs "
    "a\\nmean and a log-variance, the Sampling layer draws a code from them (the reparameterisation trick) and "
    "a\\nKL term pulls the codes towards N(0, 1). The loss is reconstruction + KL, logged separately "
    "as\\nreconstruction_loss and kl_loss. The latent scatter shows the digits arranged in the plane; "
    "decoding\\npoints from N(0, 1) generates new digits. beta weighs the KL term (1/256 matches Keras' VAE "
    "example,\\nwhich sums the reconstruction error over the 256 pixels).\\n",
)

_STRUCTURE = (
    # rarer layers, arguments and settings
    '"global_average_pooling2d"', '"global_max_pooling1d"', '"batch_normalization"', '"conv2d_transpose"',
    '"time_distributed"', '"bidirectional"', '"average_pooling2d"', '"max_pooling1d"', '"conv1d"',
    '"up_sampling2d","size":2}', '"gaussian_noise","stddev":0.3}', '"gaussian_dropout"', '"activation"',
    '"strides":2', '"use_bias":false', '"kernel_initializer":"he_normal"', '"recurrent_dropout":',
    '"return_sequences":true', '"padding":"same"', '"kernel_regularizer":{"type":"l2","l2":0.001}',
    '"activity_regularizer":{"type":"l1","l1":1e-05}}', '"reshape","target_shape":[16,16,1]}',
    '"sampling","beta":', '"name":"latent_params"', '"name":"bottleneck"', '"input_shape":[',
    '"embedding","input_dim":34,"output_dim":16}',
    # generative presets
    '"gan":{"latent_dim":8,"k":1,"g_steps":1,"label_smoothing":0.1,"label_noise":0.05,"n_eval":500,',
    '"d_optimizer":{"name":"adam","learning_rate":0.0002,"beta_1":0.5},"discriminator":[',
    '"anomaly":{"held_out_class":4,"percentile":95}', '"target":"input"}',
    # training settings
    '"stop":{"monitor":"val_loss","patience":10,"min_delta":0.001,"restore_best_weights":true,',
    '"target_loss":0.01,"target_accuracy":0.99}',
    '"schedule":{"type":"cosine_decay","decay_epochs":200,"alpha":0.05}',
    '{"type":"exponential_decay","decay_rate":0.5,', '{"type":"piecewise_constant_decay","boundaries_epochs":[',
    '"values":[', '"warmup_epochs":', '"warmup_target":',
    '"regularization":{"type":"l2","l2":0.001}', '{"type":"l1_l2","l1":0.001,', '{"type":"l1","l1":0.003}',
    '"validation":"split","validation_split":0.2', '"validation":"none"', '"shuffle":false',
    '"optimizer":{"name":"sgd","learning_rate":0.1,"momentum":0.9,"nesterov":true}',
    '{"name":"rmsprop","learning_rate":0.001,"rho":0.9}', '{"name":"adagrad"', '{"name":"adamw","weight_decay":0.004',
    '"clipnorm":1.0', '"clipvalue":0.5', '"global_clipnorm":1.0', '"beta_2":0.999', '"epsilon":1e-07',
    '"amsgrad":true', '"loss":"categorical_crossentropy"', '"loss":"huber"', '"loss":"hinge"',
    '"loss":"mae"', '"metrics":["mse"]', '"metrics":["mae"]', '"metrics":[]',
    # datasets and their parameters
    '"data":{"name":"grammar","n_chars":40000,"seq_len":20,"step":3,"one_hot":false,',
    '"data":{"name":"arith","n_samples":50000,"digits":3,"mode":"qa","reverse":true,',
    '"data":{"name":"copy","n_samples":2000,"length":5,"delay":20,"symbols":8,', '"data":{"name":"adding",',
    '"data":{"name":"wave1d",', '"data":{"name":"sine-mix","n_samples":10000,"seq_len":50,',
    '"data":{"name":"ring8","n_samples":2000,"modes":8,"radius":2.0,"std":0.05', '"data":{"name":"swissroll2d",',
    '"data":{"name":"blobs","n_samples":600,"centers":3,"std":1.0,', '"data":{"name":"circles","factor":0.5,',
    '"data":{"name":"curve1d","n_samples":256,', '"data":{"name":"iris","standardize":true,',
    '"data":{"name":"wine",', '"data":{"name":"breast-cancer",', '"data":{"name":"digits",',
    '"data":{"name":"data.csv","path":".npz","images":".idx","labels":"', '"text","path":".txt",',
    '"data":{"name":"parity","n_samples":4000,"seq_len":8,"per_step":false,',
    '"data":{"name":"first-symbol","n_samples":4000,"seq_len":40,"symbols":4,',
    '"data":{"name":"sine-next","n_samples":2000,"seq_len":20,"noise":0.0,"train_ratio":0.8}',
    '"data":{"name":"shapes","n_samples":3000,"size":16,"noise":0.1,"train_ratio":0.8}',
    '"data":{"name":"font-digits","n_samples":5000,"size":16,"noise":0.1,"train_ratio":0.8}',
    '"data":{"name":"reg-gauss","n_samples":1200,', '"data":{"name":"reg-plane","n_samples":1200,',
    '"data":{"name":"moons","n_samples":400,"noise":0.35,"train_ratio":0.15,',
    '"data":{"name":"gauss",', '"data":{"name":"circle",', '"data":{"name":"xor",', '"seed":1,',
    # variants and targets
    '"variants":[{"name":"', '","description":"', '","set":{"model.layers[0].units":',
    '"model.layers[0].type":"lstm",', '"training.optimizer":{"name":"sgd",', '"data.noise":0.1,',
    '"training.optimizer.learning_rate":0.01,', '"target":{"metric":"test_loss","max":0.03}}',
    '"target":{"metric":"train_loss","max":0.1}}', '"target":{"metric":"test_modes_covered","min":6}',
    '"test_classes_covered"', '"test_anomaly_auc"', '"val_accuracy"', '"val_loss"', '"test_mae"',
    # the most common: dense stacks, CNN and RNN layers, a 2-D dataset, training and target
    '{"type":"simple_rnn","units":16}', '{"type":"gru","units":32}', '{"type":"lstm","units":64}',
    '{"type":"dropout","rate":0.5}', '{"type":"flatten"}', '{"type":"conv2d","filters":16,"kernel_size":3,',
    '{"type":"max_pooling2d","pool_size":2}', '"activation":"leaky_relu"}', '"activation":"linear"}',
    '"activation":"softmax"}', '"activation":"sigmoid"}', '"activation":"relu"}', '"activation":"tanh"}',
    '"loss":"mse","metrics":["mae"],', '"loss":"sparse_categorical_crossentropy","metrics":["accuracy"],',
    '"epochs":20,"batch_size":64,', '"optimizer":{"name":"adam","learning_rate":0.001,"beta_1":0.5}',
    '"optimizer":{"name":"sgd","learning_rate":0.03}}', '"optimizer":{"name":"adam","learning_rate":0.005}}',
    '"target":{"metric":"test_accuracy","min":0.95}}',
    '"data":{"name":"spiral","n_samples":500,"noise":0.0,"train_ratio":0.5,',
    '"features":["x1","x2","x1^2","x2^2","x1*x2","sin(x1)","sin(x2)"]},',
    '"model":{"layers":[{"type":"dense","units":8,"activation":"tanh"},{"type":"dense","units":1,',
    '"activation":"sigmoid"}]},"training":{"loss":"binary_crossentropy","metrics":["accuracy"],"epochs":100,',
    '"batch_size":10,"optimizer":{"name":"adam","learning_rate":0.01}},"target":{"metric":"test_accuracy",',
)

#: The ``nnplay1`` preset dictionary (UTF-8), for ``zlib.compressobj(zdict=...)`` / ``decompressobj(zdict=...)``.
DICTIONARY_V1 = "".join(_DESCRIPTIONS + _STRUCTURE).encode("utf-8")

"""Preset texts more than one test module trains or exports."""

#: No shipped preset has Bidirectional: this one does (both recurrent kinds, two merge modes).
BIDIRECTIONAL = """
name = "bidirectional-sine"
description = "Bidirectional recurrent layers on the sine wave."
[data]
name = "sine-next"
n_samples = 300
seq_len = 12
[[model.layers]]
type = "bidirectional"
layer = { type = "gru", units = 6, return_sequences = true }
[[model.layers]]
type = "bidirectional"
layer = { type = "lstm", units = 5 }
merge_mode = "sum"
[[model.layers]]
type = "dense"
units = 1
[training]
loss = "mse"
metrics = ["mae"]
epochs = 3
"""

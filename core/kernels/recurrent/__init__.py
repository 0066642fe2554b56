"""SimpleRNN, LSTM and GRU over a whole sequence, one kernel call for forward and one for backpropagation
through time each; the shared row helpers and the layout notes are in :mod:`.rows`."""
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .simple_rnn import rnn_backward, rnn_forward

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward"]

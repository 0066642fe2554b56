"""Character-level text sets: a procedural grammar, Keras-style addition, CPython's help topics.

Windows of ``seq_len`` characters are inputs and the following character is the target. ``x`` is int32
indices (n, T) for an Embedding layer, or float32 one-hot (n, T, V) with ``one_hot=True``; ``y`` is int64 (n,).
The text is cut into a train part and a test part (no window crosses the cut), then windows are shuffled.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from ..errors import NnplayError
from ._base import Dataset, Param, as_i64, build_split, jsonable, p_ratio, p_samples, p_seed, register

ONE_HOT_LIMIT = 1 << 30  # bytes


def encode(text: str, vocab) -> np.ndarray:
    """Characters -> int32 indices into ``vocab`` (a list of characters in index order)."""
    table = {ch: i for i, ch in enumerate(vocab)}
    try:
        return np.fromiter((table[ch] for ch in text), dtype=np.int32, count=len(text))
    except KeyError as exc:
        raise NnplayError(f"encode: character {exc.args[0]!r} is not in the vocabulary; "
                          "use only characters listed in ds.meta['vocab']") from None


def decode(indices, vocab) -> str:
    """Indices (or one-hot / probability rows, decoded with argmax) -> string."""
    a = np.asarray(indices)
    if a.ndim >= 2 and a.dtype.kind == "f" and a.shape[-1] == len(vocab):
        a = a.argmax(axis=-1)
    a = a.reshape(-1).astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= len(vocab)):
        raise NnplayError(f"decode: index {int(a.max() if a.max() >= len(vocab) else a.min())} is outside "
                          f"the vocabulary of {len(vocab)} characters")
    return "".join(vocab[i] for i in a)


def _one_hot(x: np.ndarray, v: int, dataset: str) -> np.ndarray:
    need = x.size * v * 4
    if need > ONE_HOT_LIMIT:
        raise NnplayError(f"{dataset}: one_hot=True would need {need / 2**20:.0f} MB; lower n_chars, raise step, "
                          "or keep one_hot=False and start the model with an Embedding layer")
    return np.eye(v, dtype=np.float32)[x]


def text_params(seq_len: int = 40, step: int = 3) -> list:
    return [Param("seq_len", seq_len, "int", lo=1, hi=1000, help="characters per input window"),
            Param("step", step, "int", lo=1, hi=1000, help="characters between window starts"),
            Param("one_hot", False, "bool", help="x as float32 one-hot (n, T, V) instead of int32 indices (n, T)")]


def char_windows(name: str, text: str, p: dict, description: str, vocab=None, meta=None, **kw) -> Dataset:
    """Build next-character windows from ``text`` using p['seq_len'], p['step'], p['one_hot'], p['train_ratio']."""
    T, step = p["seq_len"], p.get("step", 1)
    if not text:
        raise NnplayError(f"{name}: the text is empty; give a file with some text in it")
    vocab = sorted(set(text)) if vocab is None else list(vocab)
    codes = encode(text, vocab)
    cut = int(math.floor(len(codes) * p["train_ratio"] + 1e-9))
    parts = (codes[:cut], codes[cut:])
    short = min(len(parts[0]), len(parts[1]))
    if short <= T:
        raise NnplayError(f"{name}: {len(codes)} characters split {cut}/{len(codes) - cut} are too few for "
                          f"seq_len={T}; each part needs more than {T} characters; use more text or a smaller seq_len")
    rng = np.random.default_rng(p["seed"])
    xs, ys = [], []
    for part in parts:
        starts = np.arange(0, len(part) - T, step)
        starts = starts[rng.permutation(len(starts))]
        xs.append(part[starts[:, None] + np.arange(T)[None, :]].astype(np.int32))
        ys.append(as_i64(part[starts + T]))
    if p["one_hot"]:
        xs = [_one_hot(x, len(vocab), name) for x in xs]
    info = {"vocab": vocab, "text": text, "text_train_chars": cut, "seq_len": T}
    info.update(meta or {})
    desc = (f"{description}; {len(text):_} characters, vocabulary of {len(vocab)}, windows of {T} (step {step}); "
            f"{len(xs[0])} train / {len(xs[1])} test windows.")
    return Dataset(name, "multiclass", xs[0], ys[0], xs[1], ys[1], desc, n_classes=len(vocab),
                   class_names=list(vocab), meta=info, params=jsonable(p), **kw)


# --------------------------------------------------------------------------------------------------
# grammar
# --------------------------------------------------------------------------------------------------
LEXICON = {
    "det_sg": ["a", "the", "one", "this", "every", "that"],
    "det_pl": ["the", "two", "three", "some", "these", "many", "those"],
    "adj": ["green", "old", "small", "quiet", "bright", "tall", "lazy", "happy", "young", "red", "clever",
            "ancient"],
    "noun": [("tree", "trees"), ("river", "rivers"), ("dog", "dogs"), ("bird", "birds"), ("child", "children"),
             ("mouse", "mice"), ("person", "people"), ("fox", "foxes"), ("owl", "owls"), ("city", "cities"),
             ("woman", "women"), ("man", "men"), ("apple", "apples"), ("box", "boxes"), ("cat", "cats"),
             ("king", "kings"), ("ship", "ships"), ("teacher", "teachers"), ("elephant", "elephants")],
    "vi": [("smiles", "smile"), ("sleeps", "sleep"), ("waits", "wait"), ("sings", "sing"), ("falls", "fall"),
           ("grows", "grow"), ("laughs", "laugh"), ("rests", "rest"), ("runs", "run"), ("shines", "shine")],
    "vt": [("sees", "see"), ("follows", "follow"), ("likes", "like"), ("watches", "watch"),
           ("carries", "carry"), ("finds", "find"), ("helps", "help"), ("chases", "chase"), ("loves", "love"),
           ("visits", "visit")],
    "adv": ["quietly", "slowly", "today", "often", "again", "happily", "early", "sometimes"],
    "prep": ["near", "behind", "under", "with", "beside", "above", "by"],
}


class _Dice:
    """Uniform numbers drawn from a Generator in blocks (much faster than one call per choice)."""

    def __init__(self, rng: np.random.Generator):
        self.rng, self.buf, self.i = rng, rng.random(8192), 0

    def u(self) -> float:
        if self.i >= len(self.buf):
            self.buf, self.i = self.rng.random(8192), 0
        self.i += 1
        return self.buf[self.i - 1]

    def pick(self, seq):
        return seq[int(self.u() * len(seq))]

    def chance(self, prob: float) -> bool:
        return self.u() < prob


def _np(d: _Dice, plural: bool, depth: int) -> list:
    words = [d.pick(LEXICON["det_pl" if plural else "det_sg"])]
    if d.chance(0.3):
        words.append(d.pick(LEXICON["adj"]))
    words.append(d.pick(LEXICON["noun"])[1 if plural else 0])
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    if depth == 0 and d.chance(0.25):
        words.append(d.pick(LEXICON["prep"]))
        words += _np(d, d.chance(0.4), depth + 1)
    return words


def grammar_sentence(d: _Dice) -> str:
    plural = d.chance(0.4)
    words = _np(d, plural, 0)
    if d.chance(0.5):
        words.append(d.pick(LEXICON["vi"])[1 if plural else 0])
    else:
        words.append(d.pick(LEXICON["vt"])[1 if plural else 0])
        words += _np(d, d.chance(0.4), 1)
    if d.chance(0.3):
        words.append(d.pick(LEXICON["adv"]))
    s = " ".join(words) + "."
    return s[0].upper() + s[1:]


def grammar_text(n_chars: int, seed: int = 0) -> str:
    """Exactly ``n_chars`` characters of grammar sentences, 2-5 per line; deterministic from ``seed``."""
    d = _Dice(np.random.default_rng(seed))
    lines, total = [], 0
    while total < n_chars:
        line = " ".join(grammar_sentence(d) for _ in range(2 + int(d.u() * 4))) + "\n"
        lines.append(line)
        total += len(line)
    return "".join(lines)[:n_chars]


@register("grammar", "char-level sentences from a small grammar with subject-verb agreement (text)", "text",
          [Param("n_chars", 200_000, "int", lo=1000, hi=10_000_000, help="length of the generated text"),
           *text_params(40, 3), p_ratio(0.8), p_seed()])
def _grammar(p):
    text = grammar_text(p["n_chars"], p["seed"])
    return char_windows("grammar", text, p, "grammar: procedural English with number agreement across "
                        "prepositional phrases (\"Two rivers near one green tree smile quietly.\")")


# --------------------------------------------------------------------------------------------------
# arith (Keras addition_rnn style)
# --------------------------------------------------------------------------------------------------
def addition_pairs(n: int, digits: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct unordered pairs (a, b), each number having 1..digits random digits."""
    top = 10 ** digits
    keys = np.empty(0, dtype=np.int64)
    a_all, b_all = np.empty(0, np.int64), np.empty(0, np.int64)
    for _ in range(10_000):
        need = n - len(keys)
        if need <= 0:
            break
        m = 2 * need + 64
        length = rng.integers(1, digits + 1, (2, m))
        nums = np.floor(rng.random((2, m)) * 10.0 ** length).astype(np.int64)
        a, b = nums
        new = np.minimum(a, b) * top + np.maximum(a, b)
        _, first = np.unique(np.concatenate([keys, new]), return_index=True)
        fresh = np.sort(first[first >= len(keys)])[:need] - len(keys)
        keys = np.concatenate([keys, new[fresh]])
        a_all, b_all = np.concatenate([a_all, a[fresh]]), np.concatenate([b_all, b[fresh]])
    return a_all, b_all


ARITH_QA_VOCAB = [" ", "+"] + [str(i) for i in range(10)]
ARITH_STREAM_VOCAB = ["\n", " ", "+"] + [str(i) for i in range(10)] + ["="]


@register("arith", "3-digit addition as characters, e.g. '118+248' -> '366' (Keras addition_rnn)", "text",
          [p_samples(50_000, lo=10, hi=1_000_000), Param("digits", 3, "int", lo=1, hi=5, help="digits per number"),
           Param("mode", "qa", "choice", choices=("qa", "stream"),
                 help="qa: query -> answer per step; stream: next character of 'a+b=c' lines"),
           Param("reverse", False, "bool", help="reverse the query string (qa mode; often learns faster)"),
           Param("seq_len", None, "int", lo=1, hi=1000, allow_none=True,
                 help="window length in stream mode (default 20); qa mode uses the query length"),
           Param("step", 1, "int", lo=1, hi=1000, help="characters between windows (stream mode)"),
           Param("one_hot", False, "bool", help="x as float32 one-hot instead of int32 indices"),
           p_ratio(0.8), p_seed()])
def _arith(p):
    rng, n, dg = np.random.default_rng(p["seed"]), p["n_samples"], p["digits"]
    top = 10 ** dg
    cap = top * (top + 1) // 4
    if n > cap:
        raise NnplayError(f"arith: n_samples={n} is too many for digits={dg}; use at most {cap} "
                          "(half of the distinct pairs) or more digits")
    a, b = addition_pairs(n, dg, rng)
    if p["mode"] == "stream":
        p = dict(p, seq_len=p["seq_len"] or 20)
        text = "".join(f"{x}+{y}={x + y}\n" for x, y in zip(a.tolist(), b.tolist()))
        return char_windows("arith", text, p, f"arith: a stream of {dg}-digit sums like '118+248=366'",
                            vocab=ARITH_STREAM_VOCAB, meta={"digits": dg, "mode": "stream"})
    qlen, alen = 2 * dg + 1, dg + 1
    p = dict(p, seq_len=qlen)
    queries = [f"{x}+{y}".ljust(qlen) for x, y in zip(a.tolist(), b.tolist())]
    if p["reverse"]:
        queries = [q[::-1] for q in queries]
    answers = "".join(str(s).ljust(alen) for s in (a + b).tolist())
    x = encode("".join(queries), ARITH_QA_VOCAB).reshape(n, qlen)
    y = as_i64(encode(answers, ARITH_QA_VOCAB).reshape(n, alen))
    if p["one_hot"]:
        x = _one_hot(x, len(ARITH_QA_VOCAB), "arith")
    desc = (f"arith: '{a[0]}+{b[0]}' -> '{a[0] + b[0]}': queries padded to {qlen} characters"
            f"{' and reversed' if p['reverse'] else ''}, answers padded to {alen} (one target per answer "
            "character); {n_train} train / {n_test} test.")
    return build_split("arith", "multiclass", x, y, rng, p, desc, n_classes=len(ARITH_QA_VOCAB),
                       class_names=list(ARITH_QA_VOCAB),
                       meta={"vocab": list(ARITH_QA_VOCAB), "digits": dg, "mode": "qa", "reverse": p["reverse"],
                             "query_len": qlen, "answer_len": alen, "per_step": True})


# --------------------------------------------------------------------------------------------------
# pydoc: CPython's own help topics
# --------------------------------------------------------------------------------------------------
def pydoc_text() -> str:
    try:
        from pydoc_data.topics import topics
    except ImportError:
        raise NnplayError("dataset 'pydoc' needs the pydoc_data module, which this Python build lacks; "
                          "use dataset 'grammar' or load('text', path=...) instead") from None
    return "\n\n".join(topics[k] for k in sorted(topics))


@register("pydoc", "real English: CPython's built-in help topics (text)", "text",
          [Param("n_chars", None, "int", lo=1000, hi=10_000_000, allow_none=True,
                 help="use only the first n characters (default: all, about 465k)"),
           *text_params(40, 3), p_ratio(0.8), p_seed()])
def _pydoc(p):
    text = pydoc_text()
    if p["n_chars"]:
        text = text[:p["n_chars"]]
    return char_windows("pydoc", text, p, "pydoc: the help topics shipped with this Python (PSF licence)",
                        meta={"python_version": sys.version})

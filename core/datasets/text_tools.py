"""The Keras 2 ``keras.preprocessing.text`` tools that tutorials still import: ``text_to_word_sequence``,
``one_hot``, ``hashing_trick``, ``Tokenizer`` and ``tokenizer_from_json`` (Keras 3 removed the module).

They follow tf.keras 2.x's documented behaviour token for token: the same default filters (all ASCII
punctuation except the apostrophe, plus tab and newline), 1-based word indices ordered by descending count
with ties in first-seen order, index 0 never assigned, the oov token at index 1, and ``num_words`` keeping
only indices below it. ``to_json`` writes tf.keras' JSON layout, so tokenizers travel both ways.

Where nnplay differs on purpose:

- ``one_hot`` and ``hashing_trick`` hash with MD5 (Keras' ``hash_function="md5"``) instead of Python's
  ``hash``, which is salted per process: nnplay's indices are the same in every run, Keras' are not.
- An oov token that also occurs in the texts keeps index 1 (Keras moves it to its rank among the words and
  leaves index 1 unused, so the matrix width len(word_index) + 1 then misses the last word).
- Mistakes raise one ``NnplayError``: a single string passed where a list of texts is expected (Keras would
  iterate its characters), a text that is not a string (e.g. a NaN from pandas), an unknown matrix mode,
  an unfitted tokenizer, a negative index in ``sequences_to_matrix`` (Keras counts it in the last column).
- ``word_docs`` lists words in first-seen order (Keras' order depends on string hashing); counts are equal.
"""
from __future__ import annotations

import hashlib
import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..errors import NnplayError, did_you_mean

__all__ = ["FILTERS", "Tokenizer", "hashing_trick", "one_hot", "text_to_word_sequence", "tokenizer_from_json"]

#: Keras' default filters: ASCII punctuation without the apostrophe (so "don't" stays a word), tab, newline.
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def _check_split(split: Any) -> None:
    if not isinstance(split, str) or not split:
        raise NnplayError(f"split must be a non-empty string, got split={split!r}; the default is ' '")


def text_to_word_sequence(input_text: str, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list[str]:
    """Split a text into words: lower-case it, turn every character of ``filters`` into ``split``, split.

    Args:
        input_text: the text.
        filters: characters to remove (a string, or a list of single characters).
        lower: lower-case the text first.
        split: the word separator.

    Returns:
        The non-empty words, in order: ``"This is a sample sentence."`` -> ``['this', 'is', 'a', 'sample',
        'sentence']``.
    """
    if not isinstance(input_text, str):
        raise NnplayError(f"the text must be a string, got {input_text!r} ({type(input_text).__name__}); "
                          "convert it with str() or drop it")
    _check_split(split)
    if lower:
        input_text = input_text.lower()
    try:
        table = str.maketrans({c: split for c in filters})
    except (TypeError, ValueError):
        raise NnplayError(f"filters must be a string of characters to remove, got filters={filters!r}") from None
    return [word for word in input_text.translate(table).split(split) if word]


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode(), usedforsecurity=False).hexdigest(), 16)


def hashing_trick(text: str, n: int, hash_function: Callable[[str], int] | str | None = None,
                  filters: str = FILTERS, lower: bool = True, split: str = " ",
                  analyzer: Callable[[str], Iterable[str]] | None = None) -> list[int]:
    """Map each word of ``text`` to ``hash(word) % (n - 1) + 1``, an index in 1..n-1 (0 stays free).

    Args:
        text: the text.
        n: size of the hashing space (>= 2).
        hash_function: None or "md5" for MD5 (stable across runs; Keras' None means Python's salted
            ``hash``), or any function from a word to an int.
        filters, lower, split: as in ``text_to_word_sequence``.
        analyzer: a function splitting the text into words, replacing ``text_to_word_sequence``.

    Returns:
        One index per word; different words may share an index.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 2:
        raise NnplayError(f"n must be an integer >= 2 (the size of the hashing space), got n={n!r}")
    if hash_function is None or hash_function == "md5":
        hash_function = _md5
    elif not callable(hash_function):
        raise NnplayError(f"hash_function must be None, 'md5' or a function, got hash_function={hash_function!r}")
    words = analyzer(text) if analyzer is not None else text_to_word_sequence(text, filters, lower, split)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text: str, n: int, filters: str = FILTERS, lower: bool = True, split: str = " ",
            analyzer: Callable[[str], Iterable[str]] | None = None) -> list[int]:
    """Keras' ``one_hot``: despite the name, a list of word indices in 1..n-1 by hashing (``hashing_trick``).

    nnplay hashes with MD5, so the indices are reproducible; Keras uses Python's ``hash``, whose string
    hashes change from run to run (unless PYTHONHASHSEED is fixed). nnplay's result equals Keras'
    ``hashing_trick(text, n, hash_function="md5")``.
    """
    return hashing_trick(input_text, n, "md5", filters, lower, split, analyzer)


class Tokenizer:
    """Turn texts into word-index sequences or count matrices (``keras.preprocessing.text.Tokenizer``).

    Args:
        num_words: keep only words with index < num_words (the num_words - 1 most frequent, or num_words - 2
            plus the oov token) when converting; None or 0 keeps all. Fitting always indexes every word.
        filters, lower, split: as in ``text_to_word_sequence``.
        char_level: every character is a token (filters are not applied, as in Keras).
        oov_token: if given, gets index 1 and replaces unknown words (and words cut by num_words).
        analyzer: a function splitting a text into tokens, replacing ``text_to_word_sequence``; not saved by
            ``to_json``.
        document_count: the number of texts seen so far (used by ``tokenizer_from_json``).

    Attributes:
        word_counts: word -> occurrences, in first-seen order.
        word_docs: word -> number of texts containing it.
        word_index: word -> index (1-based); index_word: the reverse. index_docs: index -> texts containing it.
        document_count: texts (and sequences) fitted so far.
    """

    def __init__(self, num_words: int | None = None, filters: str = FILTERS, lower: bool = True, split: str = " ",
                 char_level: bool = False, oov_token: str | None = None,
                 analyzer: Callable[[str], Iterable[str]] | None = None, *, document_count: int = 0) -> None:
        if num_words is not None and (isinstance(num_words, (bool, np.bool_))
                                      or not isinstance(num_words, (int, np.integer)) or num_words < 0):
            raise NnplayError(f"num_words must be None or an integer >= 0, got num_words={num_words!r}")
        _check_split(split)
        if oov_token is not None and not isinstance(oov_token, str):
            raise NnplayError(f"oov_token must be a string or None, got oov_token={oov_token!r}")
        if analyzer is not None and not callable(analyzer):
            raise NnplayError(f"analyzer must be a function from a text to its tokens, got analyzer={analyzer!r}")
        text_to_word_sequence("", filters, lower, split)        # checks the filters now, not at the first text
        self.num_words = None if num_words is None else int(num_words)
        self.filters = filters
        self.lower = lower
        self.split = split
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.document_count = document_count
        self.word_counts: dict[str, int] = {}
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def __repr__(self) -> str:
        return (f"Tokenizer(num_words={self.num_words!r}, oov_token={self.oov_token!r}, "
                f"char_level={self.char_level!r}, words={len(self.word_counts)}, documents={self.document_count})")

    # -- texts -> tokens ---------------------------------------------------------------------------------

    def _texts(self, texts: Any, what: str) -> Iterable:
        if isinstance(texts, (str, bytes)):
            raise NnplayError(f"{what} takes a list of texts, got a single string ({texts[:30]!r}); wrap it: [text]")
        if not isinstance(texts, Iterable):
            raise NnplayError(f"{what} takes a list of texts, got {type(texts).__name__}")
        return texts

    def _tokens(self, text: Any, position: int) -> Iterable[str]:
        """The tokens of one text, as Keras makes them (a list is taken as already-split tokens)."""
        if isinstance(text, (list, tuple)):
            return [t.lower() for t in text] if self.lower else text
        if not isinstance(text, str):
            raise NnplayError(f"text {position} is {text!r} ({type(text).__name__}), not a string; convert or drop "
                              "it (e.g. df['text'].fillna('').astype(str))")
        if self.char_level:
            return text.lower() if self.lower else text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str] | Iterable[list[str]]) -> None:
        """Count the words of ``texts`` (strings, or lists of tokens) and rebuild the word index.

        Indices go by descending count over everything fitted so far; equal counts keep first-seen order
        (Keras sorts the counts with a stable sort), and the oov token, when set, comes first at index 1.
        """
        for position, text in enumerate(self._texts(texts, "fit_on_texts")):
            seq = self._tokens(text, position)
            self.document_count += 1
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in dict.fromkeys(seq):
                self.word_docs[w] += 1
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)   # stable: ties keep order
        vocab = [] if self.oov_token is None else [self.oov_token]
        vocab.extend(w for w, _ in ranked if w != self.oov_token)
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences: Iterable[Iterable[int]]) -> None:
        """Count in how many sequences each index occurs (for tf-idf without ``fit_on_texts``)."""
        sequences = list(sequences)
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def _need_vocabulary(self, what: str) -> None:
        if not self.word_index:
            raise NnplayError(f"{what}: the Tokenizer has no vocabulary yet; call fit_on_texts(texts) first")

    def texts_to_sequences(self, texts: Iterable[str] | Iterable[list[str]]) -> list[list[int]]:
        """Each text as a list of word indices. Unknown words, and words with index >= num_words, are
        dropped, or replaced by the oov token's index when there is one."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts: Iterable[str] | Iterable[list[str]]):
        """``texts_to_sequences`` one text at a time."""
        self._need_vocabulary("texts_to_sequences")
        num_words = self.num_words
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for position, text in enumerate(self._texts(texts, "texts_to_sequences")):
            vect = []
            for w in self._tokens(text, position):
                i = self.word_index.get(w)
                if i is not None and not (num_words and i >= num_words):
                    vect.append(i)
                elif oov is not None:
                    vect.append(oov)
            yield vect

    def sequences_to_texts(self, sequences: Iterable[Iterable[int]]) -> list[str]:
        """Each sequence of indices back to a text (words joined by spaces), with the same num_words and oov
        rules as ``texts_to_sequences``; unknown indices (e.g. the padding 0) are dropped or become oov."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences: Iterable[Iterable[int]]):
        """``sequences_to_texts`` one sequence at a time."""
        self._need_vocabulary("sequences_to_texts")
        num_words = self.num_words
        oov = self.oov_token if self.oov_token in self.word_index else None
        for seq in sequences:
            vect = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None and not (num_words and num >= num_words):
                    vect.append(word)
                elif oov is not None:
                    vect.append(oov)
            yield " ".join(vect)

    # -- matrices ----------------------------------------------------------------------------------------

    def texts_to_matrix(self, texts: Iterable[str] | Iterable[list[str]], mode: str = "binary") -> np.ndarray:
        """``sequences_to_matrix(texts_to_sequences(texts), mode)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Iterable[Iterable[int]], mode: str = "binary") -> np.ndarray:
        """One row per sequence, one column per index 0..num_words-1 (indices beyond are ignored).

        Modes: "binary" (1 where an index occurs), "count" (occurrences), "freq" (occurrences / sequence
        length, the length counting ignored indices too), "tfidf" ((1 + ln count) * ln(1 + documents /
        (1 + documents containing the index))).

        Shapes:
            returns: (len(sequences), num_words or len(word_index) + 1) float64.
        """
        if not isinstance(mode, str) or mode not in MODES:
            raise NnplayError(f"sequences_to_matrix: unknown mode={mode!r}{did_you_mean(str(mode), MODES)}")
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise NnplayError("sequences_to_matrix: the width is unknown; pass num_words to the Tokenizer or call "
                              "fit_on_texts(texts) first")
        if mode == "tfidf" and not self.document_count:
            raise NnplayError("tfidf needs document counts; call fit_on_texts or fit_on_sequences first")
        sequences = list(sequences)
        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            counts: dict[int, int] = {}
            for j in seq:
                try:
                    j = operator.index(j)
                except TypeError:
                    j = -1
                if j < 0:
                    raise NnplayError(f"sequences_to_matrix: sequence {row} holds {seq!r}, but word indices are "
                                      "integers >= 0; pass the output of texts_to_sequences")
                if j < num_words:
                    counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:    # tfidf: weighting scheme 2 of https://en.wikipedia.org/wiki/Tf-idf, as Keras
                    x[row, j] = (1 + np.log(c)) * np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
        return x

    # -- JSON --------------------------------------------------------------------------------------------

    def get_config(self) -> dict:
        """The settings and vocabulary; the dictionaries are JSON strings, as in tf.keras."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs: Any) -> str:
        """The tokenizer as JSON (tf.keras' layout; ``kwargs`` go to ``json.dumps``). The analyzer is not saved."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


_SETTINGS = ("num_words", "filters", "lower", "split", "char_level", "oov_token", "document_count")
_TABLES = ("word_counts", "word_docs", "index_docs", "index_word", "word_index")


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """Rebuild a Tokenizer from ``Tokenizer.to_json()`` output (nnplay's or tf.keras'). JSON only, no pickle."""
    try:
        data = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise NnplayError(f"tokenizer_from_json: not valid JSON ({err}); pass the string from "
                          "Tokenizer.to_json()") from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise NnplayError("tokenizer_from_json: expected an object with a 'config' entry, as Tokenizer.to_json() "
                          "writes")
    config = dict(config)
    known = _SETTINGS + _TABLES
    for key in config:
        if key not in known:
            raise NnplayError(f"tokenizer_from_json: unknown config key {key!r}{did_you_mean(key, known)}")
    tables = {}
    for key in _TABLES:
        raw = config.pop(key, "{}")
        try:
            table = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as err:
            raise NnplayError(f"tokenizer_from_json: config[{key!r}] is not valid JSON ({err})") from None
        if not isinstance(table, dict):
            raise NnplayError(f"tokenizer_from_json: config[{key!r}] must be a JSON object, got {table!r}")
        tables[key] = table
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = dict(tables["word_counts"])
    tokenizer.word_docs = defaultdict(int, tables["word_docs"])
    # JSON object keys are strings: the index-keyed tables get their int keys back, as in tf.keras
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in tables["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_index = dict(tables["word_index"])
    return tokenizer

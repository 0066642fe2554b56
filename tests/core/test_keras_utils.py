"""keras.utils' to_categorical / normalize / pad_sequences and Keras 2's keras.preprocessing.text, in nnplay.

Expected arrays of the first three were produced by real Keras 3.15.1 (torch backend, NumPy inputs) in a
throwaway script and pasted here; the suite does not need Keras. The Tokenizer's expected values are written
by hand from tf.keras 2.x's documented behaviour, with the reasoning next to the subtle ones. The parity test at
the end compares with Keras on random inputs where Keras is installed."""
import json
import math

import numpy as np
import pytest

from nnplay.core.datasets.encoding import normalize, pad_sequences, to_categorical
from nnplay.core.datasets.text_tools import Tokenizer, hashing_trick, one_hot, text_to_word_sequence
from nnplay.core.datasets.text_tools import tokenizer_from_json
from nnplay.core.errors import NnplayError

# -- to_categorical ----------------------------------------------------------------------------------------

TO_CATEGORICAL = {   # name: (x, num_classes, expected from keras.utils.to_categorical)
    "doc-example": ([0, 1, 2, 3], 4, np.eye(4)),
    "inferred": ([2, 0, 1], None, [[0, 0, 1], [1, 0, 0], [0, 1, 0]]),
    "n-by-1-squeezed": (np.array([[1], [0], [2]]), None, [[0, 1, 0], [1, 0, 0], [0, 0, 1]]),
    "single-axis-kept": (np.array([1]), 3, [[0, 1, 0]]),
    "scalar": (3, 5, [0, 0, 0, 1, 0]),
    "2d": ([[0, 1], [2, 1]], None, [[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0, 1, 0]]]),
    "3d-trailing-1": (np.array([[[1], [0]], [[2], [2]]]), 3, [[[0, 1, 0], [1, 0, 0]], [[0, 0, 1], [0, 0, 1]]]),
    "num-classes-0-infers": ([1, 2], 0, [[0, 1, 0], [0, 0, 1]]),
    "whole-floats": (np.array([0.0, 2.0, 1.0], np.float32), None, [[1, 0, 0], [0, 0, 1], [0, 1, 0]]),
    "empty-with-num-classes": (np.zeros(0, int), 3, np.zeros((0, 3))),
    "bools": ([True, False], None, [[0, 1], [1, 0]]),
    "uint8-numpy-int-classes": (np.array([1, 0], np.uint8), np.int64(3), [[0, 1, 0], [1, 0, 0]]),
}


@pytest.mark.parametrize("name", TO_CATEGORICAL)
def test_to_categorical_matches_keras(name):
    x, num_classes, expected = TO_CATEGORICAL[name]
    out = to_categorical(x, num_classes)
    expected = np.asarray(expected, dtype=np.float64)
    assert out.dtype == np.float64 and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("x, num_classes, words", [
    ([0, -1], 3, "must be >= 0, got -1 at position 1"),          # Keras silently marks the last class
    ([[0, 1], [-5, 2]], None, "got -5 at position (1, 0)"),
    ([0, 3], 3, "label 3 at position 1 is out of range for num_classes=3"),   # Keras: IndexError
    ([0.0, 1.7], None, "whole numbers, got 1.7"),                 # Keras truncates to 1
    ([0.0, np.nan], 2, "whole numbers, got nan"),
    ([], None, "cannot infer num_classes"),
    ([1], 3.0, "num_classes must be an integer"),
    ([1], -2, "num_classes must be >= 0"),
    ([[0, 1], [2]], None, "regular array"),
])
def test_to_categorical_says_what_is_wrong(x, num_classes, words):
    with pytest.raises(NnplayError, match="to_categorical|num_classes") as info:
        to_categorical(x, num_classes)
    assert words in str(info.value)


def test_to_categorical_error_names_the_fix():
    with pytest.raises(NnplayError, match="pass num_classes=8 or more"):
        to_categorical([7, 1], num_classes=5)


# -- normalize ---------------------------------------------------------------------------------------------

X = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0]])
NORMALIZE = {   # name: (x, kwargs, expected from keras.utils.normalize)
    "l2-rows": (X, {}, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]]),
    "int-input": (np.array([[3, 4], [6, 8]]), {}, [[0.6, 0.8], [0.6, 0.8]]),
    "l1": (X, {"order": 1}, [[0.42857142857142855, 0.5714285714285714], [0.0, 0.0], [1.0, 0.0]]),
    "inf": (X, {"order": np.inf}, [[0.75, 1.0], [0.0, 0.0], [1.0, 0.0]]),
    "axis-1": (X, {"axis": 1}, [[0.6, 0.8], [0.0, 0.0], [1.0, 0.0]]),
    "axis-minus-2": (np.array([[3.0, 0.0], [4.0, 1.0]]), {"axis": -2}, [[0.6, 0.0], [0.8, 1.0]]),
    "1d-becomes-a-row": (np.array([3.0, 4.0]), {}, [[0.6, 0.8]]),
    "axis-none-matrix-norm": (X, {"axis": None},
                              [[0.5956167028972557, 0.7941556038630077], [0.0, 0.0], [0.1985389009657519, 0.0]]),
    "3d-axis-1": (np.arange(8.0).reshape(2, 2, 2), {"axis": 1},
                  [[[0.0, 0.31622776601683794], [1.0, 0.9486832980505138]],
                   [[0.5547001962252291, 0.5812381937190965], [0.8320502943378437, 0.813733471206735]]]),
}


@pytest.mark.parametrize("name", NORMALIZE)
def test_normalize_matches_keras(name):
    x, kwargs, expected = NORMALIZE[name]
    out = normalize(x, **kwargs)
    expected = np.asarray(expected)
    assert out.dtype == np.float64 and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)


def test_normalize_keeps_float32_and_takes_lists():
    out = normalize(X.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[0.6, 0.8], [0, 0], [1, 0]], np.float32))
    np.testing.assert_allclose(normalize([[3.0, 4.0]]), [[0.6, 0.8]])   # Keras returns a backend tensor here


def test_normalize_axis_0_divides_along_axis_0():
    # Keras' `axis or -1` turns 0 into -1: it gives [[0.6, 0], [4, 1]] here (row i / norm of column i) and
    # fails to broadcast for non-square x; nnplay divides each column by its own norm, as asked.
    np.testing.assert_allclose(normalize(np.array([[3.0, 0.0], [4.0, 1.0]]), axis=0), [[0.6, 0.0], [0.8, 1.0]])
    np.testing.assert_allclose(normalize(X, axis=0), X / np.array([math.sqrt(10), 4.0]))


def test_normalize_bad_axis_or_order():
    with pytest.raises(NnplayError, match="axis=2"):
        normalize(X, axis=2)
    with pytest.raises(NnplayError, match="order='fro'"):
        normalize(X, order="fro")


# -- pad_sequences -----------------------------------------------------------------------------------------

S = [[1], [2, 3], [4, 5, 6]]
VECTORS = [[[1, 2], [3, 4]], [[5, 6]], []]
PAD = {   # name: (sequences, kwargs, expected from keras.utils.pad_sequences, its dtype)
    "doc": (S, {}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]], "int32"),
    "value": (S, {"value": -1}, [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]], "int32"),
    "post": (S, {"padding": "post"}, [[1, 0, 0], [2, 3, 0], [4, 5, 6]], "int32"),
    "maxlen-cuts-the-start": (S, {"maxlen": 2}, [[0, 1], [2, 3], [5, 6]], "int32"),
    "maxlen-cuts-the-end": (S, {"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]], "int32"),
    "both-post": (S, {"maxlen": 2, "truncating": "post", "padding": "post"}, [[1, 0], [2, 3], [4, 5]], "int32"),
    "longer-maxlen": (S, {"maxlen": 5, "padding": "post", "value": 9},
                      [[1, 9, 9, 9, 9], [2, 3, 9, 9, 9], [4, 5, 6, 9, 9]], "int32"),
    "empty-sequences": ([[], [1, 2], []], {}, [[0, 0], [1, 2], [0, 0]], "int32"),
    "all-empty": ([[], []], {}, np.zeros((2, 0)), "int32"),
    "no-sequences-with-maxlen": ([], {"maxlen": 3}, np.zeros((0, 3)), "int32"),
    "float32": ([[1.5, 2.7], [3.2]], {"dtype": "float32", "value": -1.0}, [[1.5, 2.7], [-1.0, 3.2]], "float32"),
    "floats-truncated-to-int32": ([[1.5, 2.7], [3.2]], {}, [[1, 2], [0, 3]], "int32"),
    "vectors": (VECTORS, {"dtype": "float64"}, [[[1, 2], [3, 4]], [[0, 0], [5, 6]], [[0, 0], [0, 0]]], "float64"),
    "vectors-cut": (VECTORS, {"maxlen": 1, "truncating": "post", "padding": "post"},
                    [[[1, 2]], [[5, 6]], [[0, 0]]], "int32"),
    "object-strings": ([["a", "b"], ["c"]], {"dtype": object, "value": "<pad>"}, [["a", "b"], ["<pad>", "c"]],
                       "object"),
    "unicode-U3": ([["a", "bb"], ["c"]], {"dtype": "<U3", "value": "x"}, [["a", "bb"], ["x", "c"]], "<U3"),
    "str-type": ([["a", "b"], ["c"]], {"dtype": str, "value": "x"}, [["a", "b"], ["x", "c"]], "<U1"),
    "bytes": ([[b"a"], [b"b", b"c"]], {"dtype": "S1", "value": b"-"}, [[b"-", b"a"], [b"b", b"c"]], "S1"),
    "arrays": ([np.array([1, 2, 3]), np.array([4])], {"maxlen": 2}, [[2, 3], [0, 4]], "int32"),
    "tuples-int64": (([1, 2], (3,)), {"dtype": "int64"}, [[1, 2], [0, 3]], "int64"),
    "2d-array": (np.array([[1, 2, 3], [4, 5, 6]]), {"maxlen": 2, "truncating": "post"}, [[1, 2], [4, 5]], "int32"),
}


@pytest.mark.parametrize("name", PAD)
def test_pad_sequences_matches_keras(name):
    sequences, kwargs, expected, dtype = PAD[name]
    out = pad_sequences(sequences, **kwargs)
    expected = np.asarray(expected, dtype=dtype)
    assert out.dtype == np.dtype(dtype) and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_maxlen_0_is_empty_for_both_truncating_modes():
    # Keras: (3, 0) for truncating="post", a broadcast error for "pre" (s[-0:] keeps the whole sequence)
    for truncating in ("pre", "post"):
        assert pad_sequences(S, maxlen=0, truncating=truncating).shape == (3, 0)


@pytest.mark.parametrize("args, kwargs, words", [
    ((S,), {"padding": "middle"}, "padding must be 'pre' or 'post', got padding='middle'"),
    (([[]],), {"padding": "middle"}, "padding must be"),          # Keras only checks on a non-empty sequence
    ((S,), {"truncating": "both"}, "truncating must be 'pre' or 'post'"),
    (([["a"]],), {"value": "x"}, "dtype int32 cannot hold the string value='x'; set dtype=object"),
    (([[1], 5],), {}, "the item at position 1 is 5"),
    ((iter([[1]]),), {}, "wrap a generator in list"),
    ((["ab", "c"],), {"dtype": object}, "position 0 is a string"),
    (([[[1, 2], [3, 4]], [[5, 6, 7]]],), {}, "shape (3,), but those of the first non-empty sequence have shape (2,)"),
    (([],), {}, "no sequences and no maxlen"),
    ((S,), {"maxlen": -1}, "maxlen must be >= 0"),
    ((S,), {"maxlen": 2.0}, "maxlen must be an integer"),
    ((S,), {"value": 300, "dtype": "int8"}, "cannot be stored in dtype int8"),
    ((S,), {"dtype": "no-such-type"}, "is not a NumPy dtype"),
])
def test_pad_sequences_says_what_is_wrong(args, kwargs, words):
    with pytest.raises(NnplayError) as info:
        pad_sequences(*args, **kwargs)
    assert words in str(info.value)


def test_pad_sequences_object_dtype_in_any_spelling_takes_strings():
    # Keras tests `dtype is not object`, so dtype="object" with a string value raises there; nnplay accepts it
    for dtype in (object, "object", np.dtype("O")):
        assert pad_sequences([["a"], []], dtype=dtype, value="-").tolist() == [["a"], ["-"]]


# -- text_to_word_sequence, one_hot ------------------------------------------------------------------------

def test_text_to_word_sequence():
    assert text_to_word_sequence("This is a sample sentence.") == ["this", "is", "a", "sample", "sentence"]
    # the apostrophe is not a default filter; tab and newline are; runs of separators give no empty words
    assert text_to_word_sequence("Don't\tstop -- the \"music\"!\nNow.") == ["don't", "stop", "the", "music", "now"]
    assert text_to_word_sequence("A,B;c", lower=False, split=",") == ["A", "B", "c"]
    assert text_to_word_sequence("a-b c", filters="") == ["a-b", "c"]
    with pytest.raises(NnplayError, match="split must be a non-empty string"):
        text_to_word_sequence("a b", split="")
    with pytest.raises(NnplayError, match="must be a string"):
        text_to_word_sequence(float("nan"))


def test_one_hot_hashes_stably_with_md5():
    # md5(word) % 49 + 1 -- fixed values, the same in every process (Keras' Python hash() is salted per run)
    assert one_hot("The cat sat on the mat.", 50) == [43, 32, 29, 3, 43, 29]
    assert one_hot("The cat sat on the mat.", 2) == [1] * 6          # indices are in 1..n-1, 0 stays free
    assert hashing_trick("The cat", 50, hash_function="md5") == [43, 32]
    assert hashing_trick("a b", 10, hash_function=len) == [2, 2]
    with pytest.raises(NnplayError, match="n must be an integer >= 2"):
        one_hot("a", 1)


# -- Tokenizer ---------------------------------------------------------------------------------------------

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "my cat"]
# Counts, in first-seen order: the 3, cat 2, sat 1, on 1, mat 1, dog 1, ate 1, my 2, homework 1.
# By descending count, ties in first-seen order (a stable sort): the; cat before my (cat was seen first,
# in text 1); then the count-1 words in the order they appeared -- sat comes after my although seen earlier.
WORD_INDEX = {"the": 1, "cat": 2, "my": 3, "sat": 4, "on": 5, "mat": 6, "dog": 7, "ate": 8, "homework": 9}


def fitted(**kwargs) -> Tokenizer:
    tok = Tokenizer(**kwargs)
    tok.fit_on_texts(TEXTS)
    return tok


def test_fit_on_texts_builds_the_vocabulary():
    tok = fitted()
    assert tok.word_index == WORD_INDEX
    assert list(tok.word_index) == list(WORD_INDEX)
    assert tok.index_word == {i: w for w, i in WORD_INDEX.items()}
    assert list(tok.word_counts.items()) == [("the", 3), ("cat", 2), ("sat", 1), ("on", 1), ("mat", 1),
                                             ("dog", 1), ("ate", 1), ("my", 2), ("homework", 1)]
    assert dict(tok.word_docs) == {"the": 2, "cat": 2, "sat": 1, "on": 1, "mat": 1, "dog": 1, "ate": 1, "my": 2,
                                   "homework": 1}        # "the" twice in text 1 counts one document
    assert tok.document_count == 3
    assert dict(tok.index_docs) == {1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1}


def test_texts_to_sequences_and_num_words():
    new = ["the cat ate a fish", "My homework"]
    assert fitted().texts_to_sequences(new) == [[1, 2, 8], [3, 9]]          # unknown "a", "fish" dropped
    # num_words=4 keeps indices < 4 (the, cat, my): the 3 most frequent words, not 4
    assert fitted(num_words=4).texts_to_sequences(new) == [[1, 2], [3]]
    # fitting still indexes every word; only the conversion cuts
    assert fitted(num_words=4).word_index == WORD_INDEX


def test_oov_token_takes_index_1_and_replaces_unknown_and_cut_words():
    tok = fitted(oov_token="<OOV>")
    # the oov token is put first, every word moves up by one; it is neither lower-cased nor filtered
    assert tok.word_index == {"<OOV>": 1, **{w: i + 1 for w, i in WORD_INDEX.items()}}
    new = ["the cat ate a fish", "My homework"]
    assert tok.texts_to_sequences(new) == [[2, 3, 9, 1, 1], [4, 10]]
    # num_words=5 keeps indices < 5: <OOV> 1, the 2, cat 3, my 4; "ate" (9) and "homework" (10) become oov
    assert fitted(oov_token="<OOV>", num_words=5).texts_to_sequences(new) == [[2, 3, 1, 1, 1], [4, 1]]


def test_oov_token_that_occurs_in_the_texts_keeps_index_1():
    tok = Tokenizer(oov_token="unk")
    tok.fit_on_texts(["unk unk x"])
    # Keras would give {"unk": 2, "x": 3} and leave index 1 unused (its dict(zip(...)) lets the second "unk"
    # overwrite the first), so sequences_to_matrix would drop the last word; nnplay keeps unk at 1
    assert tok.word_index == {"unk": 1, "x": 2} and tok.index_word == {1: "unk", 2: "x"}
    assert tok.word_counts == {"unk": 2, "x": 1} and tok.texts_to_sequences(["x y"]) == [[2, 1]]


def test_sequences_to_texts():
    assert fitted().sequences_to_texts([[1, 2, 0, 8], []]) == ["the cat ate", ""]     # 0 is nobody's index
    assert fitted(num_words=4).sequences_to_texts([[1, 2, 3, 8]]) == ["the cat my"]
    assert fitted(oov_token="<OOV>").sequences_to_texts([[2, 3, 1, 0, 99]]) == ["the cat <OOV> <OOV> <OOV>"]
    assert fitted().sequences_to_texts([np.array([1, 2])]) == ["the cat"]


def test_texts_to_matrix_modes():
    tok = fitted()
    texts = ["the cat the", "dog"]                # width len(word_index) + 1 = 10, column 0 unused
    binary = np.zeros((2, 10))
    binary[0, [1, 2]] = 1
    binary[1, 7] = 1
    np.testing.assert_array_equal(tok.texts_to_matrix(texts), binary)
    count = binary.copy()
    count[0, 1] = 2
    np.testing.assert_array_equal(tok.texts_to_matrix(texts, mode="count"), count)
    freq = np.zeros((2, 10))
    freq[0, 1], freq[0, 2], freq[1, 7] = 2 / 3, 1 / 3, 1
    np.testing.assert_allclose(tok.texts_to_matrix(texts, mode="freq"), freq)
    # tfidf = (1 + ln count) * ln(1 + documents / (1 + documents with the word)); 3 documents were fitted,
    # "the" and "cat" are in 2 of them, "dog" in 1
    tfidf = np.zeros((2, 10))
    tfidf[0, 1] = (1 + math.log(2)) * math.log(2)
    tfidf[0, 2] = math.log(2)
    tfidf[1, 7] = math.log(2.5)
    np.testing.assert_allclose(tok.texts_to_matrix(texts, mode="tfidf"), tfidf, rtol=1e-15)
    assert tok.texts_to_matrix(texts).dtype == np.float64


def test_sequences_to_matrix_width_is_num_words():
    tok = fitted(num_words=4)
    out = tok.sequences_to_matrix([[1, 7], []], mode="freq")
    # index 7 is beyond the width 4 and ignored, but still counts in the length: 1 / 2
    np.testing.assert_array_equal(out, [[0, 0.5, 0, 0], [0, 0, 0, 0]])
    bare = Tokenizer(num_words=3)
    np.testing.assert_array_equal(bare.sequences_to_matrix([[0, 2, 2]], mode="count"), [[1, 0, 2]])
    bare.fit_on_sequences([[1, 2, 2], [2]])
    assert bare.document_count == 2 and dict(bare.index_docs) == {1: 1, 2: 2}


def test_char_level_and_pretokenized_texts():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["aba", "Bc!"])          # lower-cased; filters do not apply at char level
    assert tok.word_index == {"a": 1, "b": 2, "c": 3, "!": 4}
    assert tok.texts_to_sequences(["cab?"]) == [[3, 1, 2]]
    tok = Tokenizer()
    tok.fit_on_texts([["Hello", "World,"], ["hello"]])   # lists are tokens already: lower-cased, not filtered
    assert tok.word_index == {"hello": 1, "world,": 2}
    tok = Tokenizer(analyzer=lambda text: text.split("|"))   # an analyzer replaces filtering and lower-casing
    tok.fit_on_texts(["A|b|A"])
    assert tok.word_index == {"A": 1, "b": 2}


def test_refitting_accumulates_counts():
    tok = fitted()
    tok.fit_on_texts(["sat sat sat"])
    assert tok.word_counts["sat"] == 4 and tok.document_count == 4
    assert list(tok.word_index)[:3] == ["sat", "the", "cat"]


def test_json_round_trip_in_the_tf_keras_layout():
    tok = fitted(num_words=6, oov_token="<OOV>")
    text = tok.to_json()
    data = json.loads(text)
    assert data["class_name"] == "Tokenizer"
    assert isinstance(data["config"]["word_index"], str)       # tf.keras nests the tables as JSON strings
    back = tokenizer_from_json(text)
    assert back.word_index == tok.word_index and back.index_word == tok.index_word
    assert all(isinstance(k, int) for k in back.index_word) and dict(back.index_docs) == dict(tok.index_docs)
    assert back.word_counts == tok.word_counts and dict(back.word_docs) == dict(tok.word_docs)
    assert (back.num_words, back.oov_token, back.document_count) == (6, "<OOV>", 3)
    new = ["the cat ate a fish", "my homework"]
    assert back.texts_to_sequences(new) == tok.texts_to_sequences(new)
    np.testing.assert_array_equal(back.texts_to_matrix(new, "tfidf"), tok.texts_to_matrix(new, "tfidf"))
    back.fit_on_texts(["zebra"])                                 # a loaded tokenizer can go on fitting
    assert back.word_docs["zebra"] == 1


def test_reads_a_tf_keras_json_string():
    config = {"num_words": None, "filters": "!", "lower": True, "split": " ", "char_level": False,
              "oov_token": None, "document_count": 2, "word_counts": '{"a": 2, "b": 1}',
              "word_docs": '{"a": 2, "b": 1}', "index_docs": '{"1": 2, "2": 1}',
              "index_word": '{"1": "a", "2": "b"}', "word_index": '{"a": 1, "b": 2}'}
    tok = tokenizer_from_json(json.dumps({"class_name": "Tokenizer", "config": config}))
    assert tok.index_word == {1: "a", 2: "b"} and tok.texts_to_sequences(["B! a c"]) == [[2, 1]]


@pytest.mark.parametrize("call, words", [
    (lambda: Tokenizer().fit_on_texts("one text"), "single string"),    # Keras would count its characters
    (lambda: Tokenizer().fit_on_texts(["ok", float("nan")]), "text 1 is nan (float), not a string"),
    (lambda: Tokenizer().texts_to_sequences(["a"]), "call fit_on_texts(texts) first"),
    (lambda: Tokenizer().sequences_to_matrix([[1]]), "pass num_words"),
    (lambda: fitted().texts_to_matrix(["a"], mode="bin"), "did you mean 'binary'"),
    (lambda: Tokenizer(num_words=5).sequences_to_matrix([[1]], mode="tfidf"), "tfidf needs document counts"),
    (lambda: fitted().sequences_to_matrix([[1, -1]]), "integers >= 0"),
    (lambda: Tokenizer(num_words=-1), "num_words must be None or an integer >= 0"),
    (lambda: Tokenizer(oov_token=0), "oov_token must be a string"),
    (lambda: tokenizer_from_json("{}"), "'config' entry"),
    (lambda: tokenizer_from_json("not json"), "not valid JSON"),
    (lambda: tokenizer_from_json('{"config": {"num_word": 3}}'), "did you mean 'num_words'"),
])
def test_tokenizer_says_what_is_wrong(call, words):
    with pytest.raises(NnplayError) as info:
        call()
    assert words in str(info.value)

"""reviews/data.py: every count of long-memory.md §11.1 on the pinned reviews.json; the layouts."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
from gensim.models.word2vec import Text8Corpus

from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.fetch import MANIFEST, DataFileError
from rnnmem.long_memory.reviews import data
from rnnmem.long_memory.reviews.jobs import embed_main


# ---- cleaning and tokens (no data file needed) -----------------------------------------------
@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("Hola, Mundo. Fin", "hola mundo fin"),
        ('(a)  [b]   "c"', "a b c"),  # ( deleted before the double-space passes
        ("¿Qué? Sí-no", "qué síno"),
        ("a\tb\\c", "abc"),
        ("x.  y", "x y"),  # ". " -> " " then the double space collapses
        ("z? ", "z "),
    ],
)
def test_clean_text_examples(raw, cleaned):
    assert data.clean_text(raw) == cleaned


def test_cleaning_order_matters():
    assert data.clean_text("a ( b") == "a b"  # "(" goes before the double-space passes
    assert data.clean_text("a ) b") == "a  b"  # ")" goes after them
    assert data.clean_text('a? " b') == "a  b"  # '"' and "? " go after the passes
    assert data.clean_text("a.. b") == "a b"  # the second ". " pass
    assert data.clean_text("a   b") == "a b"  # two passes: three spaces become one
    assert data.clean_text("a     b") == "a  b"  # five: 3, then 2


def test_tokenize_single_space_drops_empty():
    assert data.tokenize(" a  b c ") == ["a", "b", "c"]
    assert data.tokenize("a\nb c") == ["a\nb", "c"]  # only the single space separates


# ---- the shipped file ------------------------------------------------------------------------
def test_counts(reviews):
    assert reviews.n_papers == 172
    assert reviews.n_spanish == 388
    assert len(reviews) == 382
    tokens = [t for review in reviews.tokens for t in review]
    assert len(tokens) == 62_417
    assert len(set(tokens)) == 7_106
    assert not any(ch.isspace() for t in set(tokens) for ch in t)
    counts = collections.Counter(reviews.labels.tolist())
    assert counts == {4: 99, 0: 85, 3: 81, 2: 59, 1: 58}
    assert reviews.labels.dtype == np.int64


def test_lengths(reviews):
    lengths = np.array([len(t) for t in reviews.tokens])
    assert (lengths > 150).sum() == 159
    assert np.median(lengths) == 129
    idx = data.length_index(lengths, 150)
    assert idx.max() == 149 and idx.min() == lengths.min() - 1


def test_corpus_is_the_token_stream(reviews, tmp_path):
    text = data.corpus_text(reviews)
    lines = text.split("\n")
    assert sum(1 for line in lines if line) == 382  # one line per kept review
    assert text.endswith("\n\n")
    assert text.count("\n") == 382 + 172  # a blank line after each paper
    path = tmp_path / "corpus.txt"
    path.write_text(text, encoding="utf-8")
    stream = [t for sentence in Text8Corpus(str(path)) for t in sentence]
    assert stream == [t for review in reviews.tokens for t in review]


def test_embed_sequences_pad_and_truncate():
    words = ["a", "b", "c"]
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2) + 1
    X, lengths = data.embed_sequences([("a", "c"), ("b",) * 5], words, vectors, 3)
    assert X.shape == (2, 3, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0], [[1, 2], [5, 6], [0, 0]])  # zero padding after
    np.testing.assert_array_equal(X[1], [[3, 4]] * 3)  # first 3 tokens
    np.testing.assert_array_equal(lengths, [2, 5])
    np.testing.assert_array_equal(data.length_index(lengths, 3), [1, 2])
    with pytest.raises(KeyError, match="'z'"):
        data.embed_sequences([("z",)], words, vectors, 3)


def test_split(reviews):
    parts = data.split_indices(382, 0, (282, 50, 50))
    assert [len(parts[k]) for k in data.SPLIT_NAMES] == [282, 50, 50]
    perm = np.random.RandomState(0).permutation(382)
    np.testing.assert_array_equal(np.concatenate([parts[k] for k in data.SPLIT_NAMES]), perm)
    # every class occurs in the test split, so macro averages run over the five classes
    assert set(reviews.labels[parts["test"]].tolist()) == {0, 1, 2, 3, 4}
    with pytest.raises(ValueError, match="long_memory.reviews.split_sizes"):
        data.split_indices(382, 0, (282, 50, 49))


def test_layouts_on_the_real_split(reviews, sequences):
    X, lengths = sequences
    splits = {
        layout: data.make_splits(
            X, lengths, reviews.labels, split_seed=0, split_sizes=(282, 50, 50), layout=layout
        )
        for layout in data.LAYOUTS
    }
    rows = data.split_indices(382, 0, (282, 50, 50))
    idx = data.length_index(lengths, 150)
    for name in data.SPLIT_NAMES:
        a, t = splits["authors"][name], splits["transpose"][name]
        M = len(rows[name])
        assert a.x.shape == t.x.shape == (150, M, 16)
        # labels and length indices stay with the column positions in both layouts
        for split in (a, t):
            np.testing.assert_array_equal(split.y, reviews.labels[rows[name]])
            np.testing.assert_array_equal(split.idx, idx[rows[name]])
            np.testing.assert_array_equal(split.review, rows[name])
        # transpose: column m at step t is token t of review m
        np.testing.assert_array_equal(t.x, X[rows[name]].transpose(1, 0, 2))
        # authors: column m at step t is token (t M + m) mod 150 of review (t M + m) div 150
        tt, mm = np.meshgrid(np.arange(150), np.arange(M), indexing="ij")
        flat = tt * M + mm
        expected = X[rows[name]][flat // 150, flat % 150]
        np.testing.assert_array_equal(a.x, expected)
        assert not np.array_equal(a.x, t.x)
    batch = splits["authors"]["train"].columns(64, 128)
    assert batch.x.shape == (150, 64, 16) and batch.y.shape == (64,)


def test_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        data.time_major(np.zeros((2, 3, 4)), "reshape")


# ---- a bad reviews file: one line naming it ---------------------------------------------------
def test_truncated_pinned_file_names_file_and_fix(reviews_json, tmp_path, capsys):
    cut = tmp_path / "reviews.json"
    cut.write_bytes(reviews_json.read_bytes()[:1000])  # a fetch's file, truncated afterwards
    with pytest.raises(DataFileError) as info:
        data.load_reviews(cut)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(cut) in message
    assert MANIFEST["reviews.json"].sha256 in message and "delete it and rerun" in message
    # The embed-reviews command says it in one line, without a traceback, and writes nothing.
    w2v = json.dumps(schema_defaults("long_memory")["reviews"]["word2vec"])
    argv = ["--reviews", str(cut), "--settings", w2v, "--seq-len", "150"]
    outs = [
        f"--{k}={tmp_path / f}" for k, f in (("corpus", "c"), ("embeddings", "e"), ("counts", "n"))
    ]
    with pytest.raises(SystemExit) as exit_info:
        embed_main([*argv, *outs])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reviews.json"]


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b'{"paper": [{"review": [', "JSONDecodeError"),
        (b'{"papers": []}', "no key 'paper'"),
        (b'{"paper": [{"review": [{"lan": "es"}]}]}', "no key 'text'"),
        (b'{"paper": [{"review": [{"lan": "es", "text": "a", "evaluation": 7}]}]}', "-2..2"),
        (b"\xff\xfe", "UnicodeDecodeError"),
    ],
)
def test_malformed_file_one_line_naming_it(tmp_path, content, pattern):
    path = tmp_path / "other.json"  # not a pinned name: the layout is what is checked
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=pattern) as info:
        data.load_reviews(path)
    assert len(str(info.value).splitlines()) == 1 and str(path) in str(info.value)

"""reviews/embed.py: deterministic word2vec, the embedding file and its sidecar."""

from __future__ import annotations

import dataclasses
import json

import gensim
import numpy as np
import pytest

from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.reviews import embed

REVIEWS = schema_defaults("long_memory")["reviews"]  # the workflow's defaults


def test_byte_identical_across_processes_and_hash_seeds(w2v_runs):
    first, second = w2v_runs  # PYTHONHASHSEED 1 and 2, two processes
    assert (first / "corpus.txt").read_bytes() == (second / "corpus.txt").read_bytes()
    assert (first / "emb.npz").read_bytes() == (second / "emb.npz").read_bytes()
    side = [json.loads((f / "emb.npz.provenance.json").read_text()) for f in w2v_runs]
    assert side[0] == side[1]


def test_file_and_sidecar(w2v_runs, reviews):
    folder = w2v_runs[0]
    side = json.loads((folder / "emb.npz.provenance.json").read_text())
    assert side["sha256"] == embed.sha256_file(folder / "emb.npz")
    assert side["corpus_sha256"] == embed.sha256_file(folder / "corpus.txt")
    assert side["gensim_version"] == gensim.__version__ == "4.4.0"
    assert side["settings"] == REVIEWS["word2vec"]
    words, vectors, meta = embed.load_embeddings(folder / "emb.npz")
    assert meta["gensim_version"] == "4.4.0"
    assert vectors.shape == (7106, 16) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all() and np.abs(vectors).max() > 0.01  # trained, not zeros
    tokens = [t for review in reviews.tokens for t in review]
    assert sorted(words) == sorted(set(tokens))
    assert side["n_tokens"] == 62_417 and side["n_words"] == 7_106


def test_load_refuses_a_changed_file(w2v_runs, tmp_path):
    src = w2v_runs[0]
    blob = bytearray((src / "emb.npz").read_bytes())
    blob[-1] ^= 1  # one bit of the zip's end record
    (tmp_path / "emb.npz").write_bytes(bytes(blob))
    (tmp_path / "emb.npz.provenance.json").write_bytes(
        (src / "emb.npz.provenance.json").read_bytes()
    )
    with pytest.raises(ValueError, match="sha256"):
        embed.load_embeddings(tmp_path / "emb.npz")


def test_vocabulary_order_and_counts(tmp_path):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("b a c a d e\n\nd\n", encoding="utf-8")
    settings = embed.Word2VecSettings(**{**REVIEWS["word2vec"], "vector_size": 4, "epochs": 1})
    words, vectors, counts = embed.train_word2vec(corpus, settings)
    # descending count; ties: the later first appearance first (gensim 4.4)
    assert words == ["d", "a", "e", "c", "b"]
    np.testing.assert_array_equal(counts, [2, 2, 1, 1, 1])
    assert vectors.shape == (5, 4)
    again = embed.train_word2vec(corpus, settings)
    assert again[0] == words and np.array_equal(again[1], vectors)


def test_settings_have_no_defaults():
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(embed.Word2VecSettings))
    assert set(REVIEWS["word2vec"]) == {f.name for f in dataclasses.fields(embed.Word2VecSettings)}
    with pytest.raises(ValueError):
        embed.Word2VecSettings(**{**REVIEWS["word2vec"], "sg": 2})

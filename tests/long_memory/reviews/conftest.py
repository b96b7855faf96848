"""Fixtures of the review-classification tests: the shared data file and word2vec runs.

The data folder is the test harness's data mirror (tests/conftest.py `data_mirror`: the
local mirror, else a sha256-checked cache filled once from the pinned URLs); tests that need
reviews.json skip, saying why, only when neither can be had.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import data_mirror

ROOT = Path(__file__).resolve().parents[3]

# One word2vec run in a fresh process: corpus and embedding file under argv[2].
_W2V_SCRIPT = """
import sys
from rnnmem.core.io import write_text
from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.reviews import data, embed
reviews = data.load_reviews(sys.argv[1])
write_text(sys.argv[2] + "/corpus.txt", data.corpus_text(reviews))
embed.write_embeddings(
    sys.argv[2] + "/emb.npz", sys.argv[2] + "/corpus.txt",
    embed.Word2VecSettings(**schema_defaults("long_memory")["reviews"]["word2vec"]),
)
"""


@pytest.fixture(scope="session")
def reviews_json() -> Path:
    return data_mirror() / "reviews.json"


@pytest.fixture(scope="session")
def reviews(reviews_json):
    from rnnmem.long_memory.reviews.data import load_reviews

    return load_reviews(reviews_json)


@pytest.fixture(scope="session")
def w2v_runs(reviews_json, tmp_path_factory) -> list[Path]:
    """Two word2vec runs of the spec's settings, in two processes at the same time, with
    PYTHONHASHSEED 1 and 2. Returns their folders (corpus.txt, emb.npz and its sidecar)."""
    folders, procs = [], []
    for hash_seed in ("1", "2"):
        folder = tmp_path_factory.mktemp(f"w2v_hash{hash_seed}")
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _W2V_SCRIPT, str(reviews_json), str(folder)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        folders.append(folder)
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise AssertionError(f"word2vec run failed:\n{out}\n{err}")
    return folders


@pytest.fixture(scope="session")
def sequences(reviews, w2v_runs):
    """X [382, 150, 16] float32 and lengths [382] from the first run's embeddings."""
    from rnnmem.long_memory.reviews.data import embed_sequences
    from rnnmem.long_memory.reviews.embed import load_embeddings

    words, vectors, _ = load_embeddings(w2v_runs[0] / "emb.npz")
    X, lengths = embed_sequences(reviews.tokens, words, vectors, 150)
    assert X.dtype == np.float32
    return X, lengths


@pytest.fixture(scope="session")
def short_splits(reviews, w2v_runs):
    """Splits of the real reviews at sequence length 60, in both layouts."""
    from rnnmem.long_memory.reviews import data
    from rnnmem.long_memory.reviews.embed import load_embeddings

    words, vectors, _ = load_embeddings(w2v_runs[0] / "emb.npz")
    X, lengths = data.embed_sequences(reviews.tokens, words, vectors, 60)
    return {
        layout: data.make_splits(
            X, lengths, reviews.labels, split_seed=0, split_sizes=(282, 50, 50), layout=layout
        )
        for layout in data.LAYOUTS
    }

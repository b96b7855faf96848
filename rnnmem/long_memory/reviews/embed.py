"""Deterministic word2vec embeddings of the review corpus (long-memory.md §11.1 step 4, A15).

    corpus file (data.corpus_text) --gensim Text8Corpus--> sentences of <= 10,000 tokens
        --Word2Vec(sg, vector_size, window, min_count, epochs, negative, sample,
                   alpha -> min_alpha, seed, workers)--> words [V], vectors [V, p] float32

Spec values (the schema's defaults, long_memory.reviews.word2vec): skip-gram, p = 16,
window 16, min_count 1, 5 epochs, negative 5, sample 1e-3, alpha 0.025 -> 0.0001, seed 1,
workers 1 (the [CHOICE] that makes it deterministic).

Determinism, gensim 4.4.0 with workers = 1: the initial vectors come from
numpy.random.default_rng(seed) (KeyedVectors.prep_vectors; `hashfxn` is no longer used to
seed them), the negative and frequent-word sampling from the model's seeded RandomState, the
vocabulary from first-appearance order sorted by count (deterministic), and the learning-rate
schedule from word counts, not from timing. So the vectors do not depend on PYTHONHASHSEED or on
the process (tested). They may depend on the machine's BLAS kernels (gensim calls scipy's
BLAS sdot / saxpy): byte identity is promised for reruns on one machine.

File (save_arrays, byte-reproducible .npz): words [V] unicode, vectors [V, p] float32 and
counts [V] int64 in gensim's vocabulary order (index_to_key: descending corpus count, ties
in REVERSE order of first appearance, by gensim 4.4's lexsort((-index, -count))), with a
meta record (settings, gensim version, corpus sha256).
Sidecar `<file>.provenance.json`: the file's sha256, the gensim version, the settings and the
corpus sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnmem.core.io import load_arrays, save_arrays, write_json


@dataclass(frozen=True)
class Word2VecSettings:
    """gensim Word2Vec arguments (gensim 4 names). No defaults: the workflow schema has them."""

    sg: int  # 1 = skip-gram
    vector_size: int
    window: int
    min_count: int
    epochs: int
    negative: int
    sample: float
    alpha: float
    min_alpha: float
    seed: int
    workers: int  # 1 for deterministic vectors

    def __post_init__(self):
        if self.sg not in (0, 1):
            raise ValueError(f"sg must be 0 or 1, got {self.sg}")
        if min(self.vector_size, self.window, self.min_count, self.epochs, self.workers) < 1:
            raise ValueError("vector_size, window, min_count, epochs and workers must be >= 1")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gensim_version() -> str:
    import gensim

    return gensim.__version__


def train_word2vec(
    corpus_path, settings: Word2VecSettings
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Train word2vec on the corpus file, read by Text8Corpus. Returns words, vectors, counts."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus

    corpus_path = Path(corpus_path)
    if not corpus_path.exists():
        raise FileNotFoundError(f"missing input file: {corpus_path}")
    model = Word2Vec(sentences=Text8Corpus(str(corpus_path)), **settings.as_dict())
    words = list(model.wv.index_to_key)
    vectors = np.array(model.wv.vectors, dtype=np.float32, copy=True)
    counts = np.array([model.wv.get_vecattr(w, "count") for w in words], dtype=np.int64)
    return words, vectors, counts


def provenance_path(path) -> Path:
    return Path(str(path) + ".provenance.json")


def write_embeddings(path, corpus_path, settings: Word2VecSettings) -> dict:
    """Train on `corpus_path` and write the embedding file and its sidecar; returns the sidecar."""
    words, vectors, counts = train_word2vec(corpus_path, settings)
    meta = {
        "gensim_version": gensim_version(),
        "settings": settings.as_dict(),
        "corpus_sha256": sha256_file(corpus_path),
        "order": "gensim index_to_key (descending count, ties: later first appearance first)",
        "n_words": len(words),
        "n_tokens": int(counts.sum()),
    }
    save_arrays(
        path,
        {"words": np.array(words, dtype=str), "vectors": vectors, "counts": counts},
        meta=meta,
    )
    sidecar = {**meta, "file": Path(path).name, "sha256": sha256_file(path)}
    write_json(provenance_path(path), sidecar)
    return sidecar


def load_embeddings(path, verify: bool = True) -> tuple[list[str], np.ndarray, dict]:
    """(words, vectors [V, p] float32, meta) of an embedding file; checks the sidecar's sha256."""
    if verify:
        side = provenance_path(path)
        if not side.exists():
            raise FileNotFoundError(f"missing sidecar: {side}")
        expected = json.loads(side.read_text(encoding="utf-8"))["sha256"]
        got = sha256_file(path)
        if got != expected:
            raise ValueError(f"{path}: sha256 {got} differs from its sidecar's {expected}")
    arrays, meta = load_arrays(path)
    return [str(w) for w in arrays["words"]], arrays["vectors"], meta

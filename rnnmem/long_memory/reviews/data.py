"""The review data (long-memory.md §11.1): reviews.json -> tokens, labels, corpus, sequences,
split, layout.

Pipeline, with the counts of the shipped file:

    papers (172) -> reviews with lan == "es" (388) -> clean_text -> drop empty (6) -> N = 382
    tokens(review) = clean_text(text).split(" ") without empty strings   (62,417 tokens,
                     7,106 distinct words)
    label = int(evaluation) + 2  in 0..4   (class 4: 99, 0: 85, 3: 81, 2: 59, 1: 58)

Word2vec corpus (corpus_text): for each paper of the file in order, each kept review's cleaned
text on its own line, then one blank line (after every paper, also one without a kept review).
Read as a whitespace token stream (gensim's Text8Corpus), it is exactly the concatenated tokens.

Sequences, T = seq_len (150), p = the embedding size (16):

    X[n, t] = vector(tokens[n][t])  for t < min(len_n, T), else 0       -> [N, T, p]
    length index idx[n] = min(len_n, T) - 1   (the last real token; 159 reviews are cut,
                                               the median length is 129)

Split: perm = numpy.random.RandomState(split_seed).permutation(N); the first n_train of perm
are the training reviews, the next n_val the validation reviews, the rest the test reviews
(282 / 50 / 50). Each split S_k of size M gives X_k [M, T, p], then the time-major input:

    layout "authors":    x = X_k.reshape(T, M, p)      (the reference: reinterprets memory;
                         column m at step t holds token (t*M + m) mod T of review
                         (t*M + m) div T of the split)
    layout "transpose":  x = X_k.transpose(1, 0, 2)    (column m is review m)

Labels and length indices stay with the column positions in both layouts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnmem.core.io import write_text
from rnnmem.long_memory.fetch import DataFileError, check_pinned

LAYOUTS = ("authors", "transpose")
SPLIT_NAMES = ("train", "val", "test")

# (old, new) in the order the reference applies them (long-memory.md §11.1, step 2).
_REPLACEMENTS = (
    (", ", " "),
    (". ", " "),
    ("(", ""),
    ("  ", " "),
    ("  ", " "),
    (")", ""),
    ("[", ""),
    ("]", ""),
    ('"', ""),
    ("? ", " "),
    ("¿", ""),
    ("-", ""),
    (". ", " "),
    ("\t", ""),
    ("\\", ""),
)


def clean_text(text: str) -> str:
    """Lower-case, then the replacements of long-memory.md §11.1 step 2 in their order."""
    text = text.lower()
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return text


def tokenize(cleaned: str) -> list[str]:
    """Split on a single space and drop the empty strings."""
    return [token for token in cleaned.split(" ") if token]


@dataclass(frozen=True)
class Reviews:
    """The kept reviews, in file order (paper by paper)."""

    texts: tuple[str, ...]  # cleaned texts
    tokens: tuple[tuple[str, ...], ...]
    labels: np.ndarray  # [N] int64, evaluation + 2
    paper: np.ndarray  # [N] int64, position of the review's paper in the file
    n_papers: int  # papers in the file (172)
    n_spanish: int  # reviews with lan == "es" before dropping empty texts (388)

    def __len__(self) -> int:
        return len(self.texts)


def load_reviews(path: str | Path) -> Reviews:
    """Read reviews.json and apply the filter, cleaning, tokens and labels of long-memory.md §11.1.

    A file named reviews.json must hold the pinned bytes (fetch.MANIFEST); a bad file is a
    DataFileError (a ValueError) of one line naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"missing input file: {path}")
    check_pinned(path)
    try:
        with open(path, encoding="utf-8") as handle:
            papers = json.load(handle)["paper"]
        return _keep_reviews(papers, path)
    except DataFileError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:  # JSONDecodeError: Value
        what = f"no key {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
        raise DataFileError(
            f"{path}: not in the layout of the authors' reviews.json ({what})"
        ) from None


def _keep_reviews(papers: list, path: Path) -> Reviews:
    texts, tokens, labels, paper_of = [], [], [], []
    n_spanish = 0
    for k, paper in enumerate(papers):
        for review in paper["review"]:
            if review["lan"] != "es":
                continue
            n_spanish += 1
            cleaned = clean_text(review["text"])
            if not cleaned.strip():
                continue
            texts.append(cleaned)
            tokens.append(tuple(tokenize(cleaned)))
            labels.append(int(review["evaluation"]) + 2)
            paper_of.append(k)
    labels = np.array(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() > 4):
        raise DataFileError(f"{path}: evaluation outside -2..2")
    return Reviews(
        texts=tuple(texts),
        tokens=tuple(tokens),
        labels=labels,
        paper=np.array(paper_of, dtype=np.int64),
        n_papers=len(papers),
        n_spanish=n_spanish,
    )


def corpus_text(reviews: Reviews) -> str:
    """The word2vec corpus: one cleaned review per line, a blank line after each paper."""
    lines = []
    for k in range(reviews.n_papers):
        for n in np.flatnonzero(reviews.paper == k):
            lines.append(reviews.texts[n] + "\n")
        lines.append("\n")
    return "".join(lines)


def write_corpus(path, reviews: Reviews) -> None:
    """Write corpus_text(reviews) to `path` (UTF-8, atomically, byte-reproducibly)."""
    write_text(path, corpus_text(reviews))


def embed_sequences(
    tokens, words, vectors: np.ndarray, seq_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Padded / truncated sequences X [N, seq_len, p] (vectors' dtype) and lengths [N] int64.

    words[i] is the word of vectors[i]; every token must have a vector (min_count = 1).
    lengths are the full token counts (before truncation).
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be at least 1, got {seq_len}")
    vectors = np.asarray(vectors)
    index = {word: i for i, word in enumerate(words)}
    if len(index) != len(words):
        raise ValueError("the embedding vocabulary has a repeated word")
    X = np.zeros((len(tokens), seq_len, vectors.shape[1]), dtype=vectors.dtype)
    lengths = np.zeros(len(tokens), dtype=np.int64)
    for n, review in enumerate(tokens):
        missing = [token for token in review if token not in index]
        if missing:
            raise KeyError(f"review {n}: no embedding for {missing[0]!r}")
        ids = [index[token] for token in review[:seq_len]]
        X[n, : len(ids)] = vectors[ids]
        lengths[n] = len(review)
    return X, lengths


def length_index(lengths: np.ndarray, seq_len: int) -> np.ndarray:
    """min(len, seq_len) - 1: the position of each review's last real token."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if (lengths < 1).any():
        raise ValueError("a review without tokens has no length index")
    return np.minimum(lengths, seq_len) - 1


def split_indices(n: int, split_seed: int, split_sizes) -> dict[str, np.ndarray]:
    """Review positions of the fixed split: RandomState(split_seed).permutation(n), cut in order."""
    sizes = tuple(int(s) for s in split_sizes)
    if len(sizes) != 3 or sum(sizes) != n or min(sizes) < 1:
        raise ValueError(
            f"split sizes {sizes} (config key long_memory.reviews.split_sizes) do not cut the "
            f"{n} kept reviews into three non-empty parts"
        )
    perm = np.random.RandomState(split_seed).permutation(n)
    bounds = np.cumsum((0,) + sizes)
    return {
        name: perm[bounds[k] : bounds[k + 1]].astype(np.int64) for k, name in enumerate(SPLIT_NAMES)
    }


def time_major(X: np.ndarray, layout: str) -> np.ndarray:
    """[M, T, p] -> [T, M, p]: the reference's reshape ("authors") or a transpose."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout {layout!r}, expected one of {LAYOUTS}")
    M, T, p = X.shape
    if layout == "authors":
        return np.ascontiguousarray(X).reshape(T, M, p).copy()
    return np.ascontiguousarray(X.transpose(1, 0, 2))


@dataclass(frozen=True)
class ReviewSplit:
    """One split in the models' input form."""

    x: np.ndarray  # [T, M, p] time-major inputs (layout applied)
    y: np.ndarray  # [M] int64 labels of the column positions
    idx: np.ndarray  # [M] int64 length indices of the column positions
    review: np.ndarray  # [M] int64 position of each column's review among the N kept ones

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def columns(self, start: int, stop: int) -> ReviewSplit:
        """Columns start..stop-1 (a mini-batch), as a new split."""
        return ReviewSplit(
            x=self.x[:, start:stop],
            y=self.y[start:stop],
            idx=self.idx[start:stop],
            review=self.review[start:stop],
        )


def make_splits(
    X: np.ndarray,
    lengths: np.ndarray,
    labels: np.ndarray,
    *,
    split_seed: int,
    split_sizes,
    layout: str,
) -> dict[str, ReviewSplit]:
    """The train / val / test splits of sequences X [N, T, p] in the chosen layout."""
    N, T, _ = X.shape
    if lengths.shape != (N,) or labels.shape != (N,):
        raise ValueError("X, lengths and labels disagree on the number of reviews")
    idx = length_index(lengths, T)
    out = {}
    for name, rows in split_indices(N, split_seed, split_sizes).items():
        out[name] = ReviewSplit(
            x=time_major(X[rows], layout),
            y=np.asarray(labels, dtype=np.int64)[rows].copy(),
            idx=idx[rows].copy(),
            review=rows,
        )
    return out

"""The review-classification jobs (long-memory.md §11): the embedding job and the training jobs.

    python -m rnnmem embed-reviews --reviews JSON --settings W2V_JSON --corpus TXT
                                   --embeddings NPZ --counts JSON
    python -m rnnmem train-reviews --settings JSON --reviews JSON --embeddings NPZ --out F...

embed-reviews:  reviews.json -> load_reviews (filter, clean, tokens, labels; data.py)
                -> corpus file -> deterministic word2vec (embed.py) -> embedding file with its
                sha256 sidecar, and the data's counts (the study page's 388 / 382 / 62,417 / ...).
train-reviews:  one (layout, model), all its seeds: sequences (padded / cut to seq_len) ->
                the fixed split in the layout -> reference-identical init per seed ->
                training and test metrics (train.py: seed-batched on CUDA, seed by seed on
                the CPU), in chunks of seed_chunk seeds -> one .npz per seed (the contract of
                reviews/aggregate.py). --device-record: what the job ran on, and (written
                again at the end) the seconds its training and testing took and its work
                (reviews/cost.py), for the cost planner; a log, not a result.

A training job runs on CUDA when it was given a GPU (gpus >= 1) and one is visible, else on
the CPU, with a fixed torch thread count: the same job on the same machine writes the same
bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

from rnnmem.core.device import configure_torch, device_record, select_device
from rnnmem.core.io import save_arrays, write_json
from rnnmem.core.provenance import provenance
from rnnmem.core.settings import add_settings_argument, from_settings
from rnnmem.long_memory.fetch import DataFileError
from rnnmem.long_memory.reviews import cost, data, embed
from rnnmem.long_memory.reviews.params import MODELS
from rnnmem.long_memory.reviews.train import ReviewTrainSettings, train_reviews

N_CLASSES = 5  # labels evaluation + 2 in 0..4 (long-memory.md §11.1 step 3)


def data_counts(reviews: data.Reviews, seq_len: int) -> dict:
    """The counts long-memory.md §11.1 quotes for the shipped file, computed from this one."""
    lengths = np.array([len(t) for t in reviews.tokens], dtype=np.int64)
    classes = np.bincount(reviews.labels, minlength=N_CLASSES)
    return {
        "papers": reviews.n_papers,
        "spanish_reviews": reviews.n_spanish,
        "kept_reviews": len(reviews),
        "tokens": int(lengths.sum()),
        "words": len({w for review in reviews.tokens for w in review}),
        "class_counts": {str(c): int(n) for c, n in enumerate(classes)},
        "seq_len": seq_len,
        "longer_than_seq_len": int((lengths > seq_len).sum()),
        "median_length": float(np.median(lengths)) if lengths.size else None,
    }


def embed_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem embed-reviews", description=__doc__)
    parser.add_argument("--reviews", required=True, help="reviews.json (fetched, sha256-checked)")
    add_settings_argument(parser)  # the word2vec settings
    parser.add_argument("--seq-len", type=int, required=True, help="for the counts only")
    parser.add_argument("--corpus", required=True, help="corpus file to write")
    parser.add_argument("--embeddings", required=True, help="embedding file (.npz) to write")
    parser.add_argument("--counts", required=True, help="the data's counts (JSON) to write")
    args = parser.parse_args(argv)
    settings = from_settings(embed.Word2VecSettings, args.settings)
    try:
        reviews = data.load_reviews(args.reviews)
    except DataFileError as err:  # a bad data file: one line naming it and the fix
        parser.exit(1, f"{parser.prog}: {err}\n")
    data.write_corpus(args.corpus, reviews)
    sidecar = embed.write_embeddings(args.embeddings, args.corpus, settings)
    counts = data_counts(reviews, args.seq_len)
    counts["embedding"] = {k: sidecar[k] for k in ("file", "sha256", "gensim_version")}
    write_json(args.counts, {**counts, "provenance": provenance(settings=settings.as_dict())})
    print(json.dumps(counts, indent=1))
    return 0


@dataclass(frozen=True)
class ReviewJob:
    """Everything a training job's numbers depend on (built by its rule from the config)."""

    layout: str
    model: str
    K: int
    hidden: int
    seq_len: int
    split_seed: int
    split_sizes: list
    seeds: list
    seed_chunk: int
    threads: int
    tier: str
    training: dict

    def __post_init__(self):
        if self.layout not in data.LAYOUTS:
            raise ValueError(f"layout {self.layout!r}, expected one of {data.LAYOUTS}")
        if self.model not in MODELS:
            raise ValueError(f"model {self.model!r}, expected one of {MODELS}")
        if self.seed_chunk < 1 or not self.seeds:
            raise ValueError("a job needs at least one seed and seed_chunk >= 1")


def majority(splits: dict) -> tuple[int, float]:
    """The training split's most frequent class (ties: the lowest) and its test accuracy."""
    cls = int(np.argmax(np.bincount(splits["train"].y, minlength=N_CLASSES)))
    return cls, float(np.mean(splits["test"].y == cls))


def run_job(
    job: ReviewJob, reviews_path, embeddings_path, gpus: int = 0, log=print
) -> tuple[list, float]:
    """Train and test every seed of `job`: (a list of train.SeedResult in seed order, the
    seconds the training and testing took, all chunks; the data's preparation not counted).

    gpus: what the job was given (CUDA when >= 1 and visible, else the CPU).
    """
    configure_torch(job.threads)
    settings = ReviewTrainSettings.from_config(job.training)
    device = select_device(gpus)
    reviews = data.load_reviews(reviews_path)
    words, vectors, _ = embed.load_embeddings(embeddings_path)
    X, lengths = data.embed_sequences(reviews.tokens, words, vectors, job.seq_len)
    splits = data.make_splits(
        X,
        lengths,
        reviews.labels,
        split_seed=job.split_seed,
        split_sizes=job.split_sizes,
        layout=job.layout,
    )
    majority_class, majority_accuracy = majority(splits)
    extra = {
        "layout": job.layout,
        "seq_len": job.seq_len,
        "split_sizes": [int(n) for n in job.split_sizes],
        "majority_class": majority_class,
        "majority_accuracy": majority_accuracy,
        "embedding_sha256": embed.sha256_file(embeddings_path),
        "tier": job.tier,
    }
    results, seconds = [], 0.0
    for start in range(0, len(job.seeds), job.seed_chunk):
        chunk = job.seeds[start : start + job.seed_chunk]
        began = time.perf_counter()
        results += train_reviews(
            job.model,
            chunk,
            splits,
            p=vectors.shape[1],
            H=job.hidden,
            n_classes=N_CLASSES,
            K=job.K,
            settings=settings,
            gpus=1 if device.type == "cuda" else 0,
            extra_meta=extra,
        )
        took = time.perf_counter() - began
        seconds += took
        accuracy = [r.meta["test"]["accuracy"] for r in results[-len(chunk) :]]
        log(
            f"{job.model} ({job.layout}) seeds {chunk[0]}..{chunk[-1]}: "
            f"{settings.epochs} epochs in {took:.1f} s, "
            f"mean test accuracy {np.mean(accuracy):.3f}"
        )
    return results, seconds


def train_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnmem train-reviews", description=__doc__)
    add_settings_argument(parser)
    parser.add_argument("--reviews", required=True, help="reviews.json")
    parser.add_argument("--embeddings", required=True, help="the embed-reviews .npz")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs the job was given")
    parser.add_argument("--device-record", help="JSON file: what the job ran on (for its log)")
    parser.add_argument("--out", nargs="+", required=True, help="one .npz per seed, seed order")
    args = parser.parse_args(argv)
    job = from_settings(ReviewJob, args.settings)
    if len(args.out) != len(job.seeds):
        parser.error(f"{len(args.out)} output files for {len(job.seeds)} seeds")
    if args.device_record:  # written now, so that a failed job has one too
        configure_torch(job.threads)
        ran_on = device_record(select_device(args.gpus), args.gpus)
        write_json(args.device_record, ran_on)
    try:
        results, seconds = run_job(
            job, args.reviews, args.embeddings, args.gpus, log=lambda m: print(m, file=sys.stderr)
        )
    except DataFileError as err:  # a bad data file: one line naming it and the fix
        parser.exit(1, f"{parser.prog}: {err}\n")
    record = provenance(config=asdict(job))
    for path, result in zip(args.out, results, strict=True):
        save_arrays(path, result.arrays, {**result.meta, "provenance": record})
    if args.device_record:
        work = cost.review_work(asdict(job), results[0].meta["p"])
        write_json(
            args.device_record,
            {**ran_on, "seconds": round(seconds, 3), "work": work, "work_unit": cost.WORK_UNIT},
        )
    return 0

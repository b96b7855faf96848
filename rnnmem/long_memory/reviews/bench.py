"""Benchmark: the review training engine against one seed at a time in the authors' style.

    python -m rnnmem bench reviews [--seeds 16] [--loop-seeds 2] [--epochs 1] [--seq-len 150]
                                   [--models rnn lstm mrnnf mlstmf] [--device auto|cpu|cuda]
                                   [--threads 1] [--reviews PATH] [--layout authors]
                                   [--K 50] [--repeats 1]

Both sides run in this one process, one after the other, on the same data (reviews.json ->
word2vec with the study's settings, written to a temporary folder -> sequences of --seq-len
steps -> the fixed 282 / 50 / 50 split in --layout), the same initial parameters (seeds 0, 1,
..., reference-identical, params.init_params), the workflow's default training settings
(the schema's, with --epochs) and the same device and thread count. What is timed, per model:

* engine (train.fit + train.evaluate) on S = --seeds seeds, as a training job runs them: on
  CUDA all seeds at once on stacked parameters, on the CPU one seed after the other on packed
  steps (packed.py: each step only the reviews not yet past their length index); per epoch
  the mini-batches with an Adam step, then the validation loss and the model selection; at
  the end the test log-probabilities of the selected parameters.
* per-seed loop (reference.reference_train): one seed after the other with torch modules
  (nn.RNN / nn.LSTM / nn.LSTMCell / nn.Linear), a Python loop over all seq-len steps and
  torch.optim.Adam, as the authors' code does; per epoch the mini-batches, the validation loss
  and a deepcopy of the modules on improvement; at the end the test metrics of the kept copy.
  It runs on the first --loop-seeds seeds only. Its cost is linear in the seeds (each trains
  alone), so it is compared per seed: its time for all S seeds is extrapolated as
  S x (its seconds per seed-epoch) x epochs.

Not timed: the data preparation, word2vec and the initial parameters. Before the clock, each
side runs once on a few columns and steps of each split (warm-up). On CUDA the device is
synchronised before each clock reading. The time of a side is the best of --repeats runs.

Printed per model: its parameter count (one seed), seconds per seed-epoch of each side
(seconds / (seeds x epochs)) and ratio = loop s/seed-epoch / engine s/seed-epoch. Only the
ratios are meant to be compared across machines.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import rnnmem
from rnnmem.core.device import configure_torch, device_label
from rnnmem.core.io import write_text
from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.reviews import data, embed, params, reference, train

PROG = "python -m rnnmem bench reviews"
N_CLASSES = 5  # labels evaluation + 2 in 0..4 (long-memory.md §11.1)
# The workflow's defaults (workflow/schemas/long_memory.schema.yaml: long_memory.reviews).
DEFAULTS = schema_defaults("long_memory")["reviews"]
HIDDEN = DEFAULTS["hidden"]
SPLIT_SIZES = DEFAULTS["split_sizes"]
SPLIT_SEED = DEFAULTS["split_seed"]
ENGINE = {True: "all S seeds at once", False: "one seed after the other, packed steps"}


def default_reviews() -> Path:
    """$RNNMEM_DATA_MIRROR/reviews.json, else shared/data/long-memory/ beside the checkout."""
    mirror = os.environ.get("RNNMEM_DATA_MIRROR")
    if mirror:
        return Path(mirror) / "reviews.json"
    root = Path(rnnmem.__file__).resolve().parents[1]  # the checkout
    return root.parent / "shared" / "data" / "long-memory" / "reviews.json"


def resolve_device(name: str) -> torch.device:
    """auto: CUDA when visible, else the CPU. cuda without a visible device: ValueError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "--device cuda, but no CUDA device is visible (torch "
            f"{torch.__version__}, CUDA_VISIBLE_DEVICES="
            f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r}); use --device cpu or auto"
        )
    return torch.device(name)


def prepare_splits(reviews_path, seq_len: int, layout: str) -> tuple[dict, int, int]:
    """(splits, embedding size p, reviews N): the study's word2vec, in a temporary folder."""
    reviews = data.load_reviews(reviews_path)
    with tempfile.TemporaryDirectory(prefix="rnnmem-bench-reviews-") as tmp:
        corpus, emb = Path(tmp) / "corpus.txt", Path(tmp) / "emb.npz"
        write_text(corpus, data.corpus_text(reviews))
        embed.write_embeddings(emb, corpus, embed.Word2VecSettings(**DEFAULTS["word2vec"]))
        words, vectors, _ = embed.load_embeddings(emb)
    X, lengths = data.embed_sequences(reviews.tokens, words, vectors, seq_len)
    splits = data.make_splits(
        X, lengths, reviews.labels, split_seed=SPLIT_SEED, split_sizes=SPLIT_SIZES, layout=layout
    )
    return splits, int(vectors.shape[1]), len(reviews)


def warm_splits(splits: dict, steps: int = 8, columns: int = 4) -> dict:
    """A few columns and steps of each split (length indices clipped): the warm-up data."""
    out = {}
    for name, split in splits.items():
        cut = split.columns(0, columns)
        steps_here = min(steps, cut.x.shape[0])
        out[name] = data.ReviewSplit(
            x=np.ascontiguousarray(cut.x[:steps_here]),
            y=cut.y,
            idx=np.minimum(cut.idx, steps_here - 1),
            review=cut.review,
        )
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best_of(repeats: int, run, device: torch.device) -> float:
    """The shortest wall time of `repeats` calls of run(), CUDA synchronised around each."""
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        run()
        _sync(device)
        times.append(time.perf_counter() - start)
    return min(times)


def bench_model(
    model: str,
    splits: dict,
    *,
    seeds: int,
    loop_seeds: int,
    K: int,
    p: int,
    settings: train.ReviewTrainSettings,
    device: torch.device,
    repeats: int,
) -> dict:
    """Seconds per seed-epoch of the engine (S seeds) and of the per-seed loop, and the ratio."""
    dtype = settings.torch_dtype
    params0 = params.init_params(
        model, range(seeds), p=p, H=HIDDEN, n_classes=N_CLASSES, dtype=dtype, device=device
    )
    loop0 = {name: t[:loop_seeds] for name, t in params0.items()}

    def engine(splits_, settings_):
        result = train.fit(model, params0, splits_, K=K, settings=settings_, device=device)
        train.evaluate(model, result.snapshot, splits_["test"], K=K, dtype=dtype, device=device)

    def loop(splits_, settings_, first):
        reference.reference_train(
            model,
            first,
            splits_,
            K=K,
            p=p,
            H=HIDDEN,
            n_classes=N_CLASSES,
            settings=settings_,
            device=device,
        )

    tiny, one_epoch = warm_splits(splits), dataclasses.replace(settings, epochs=1)
    engine(tiny, one_epoch)
    loop(tiny, one_epoch, {name: t[:1] for name, t in params0.items()})
    _sync(device)

    engine_s = _best_of(repeats, lambda: engine(splits, settings), device)
    loop_s = _best_of(repeats, lambda: loop(splits, settings, loop0), device)
    engine_per = engine_s / (seeds * settings.epochs)
    loop_per = loop_s / (loop_seeds * settings.epochs)
    return dict(
        model=model,
        n_params=params.n_params(model, p, HIDDEN, N_CLASSES),
        engine_s=engine_s,
        loop_s=loop_s,
        engine_s_per_seed_epoch=engine_per,
        loop_s_per_seed_epoch=loop_per,
        ratio=loop_per / engine_per,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=16, help="engine seeds S, trained as one")
    parser.add_argument("--loop-seeds", type=int, default=2, help="seeds of the per-seed loop")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of each side")
    parser.add_argument("--seq-len", type=int, default=150, help="steps per review")
    parser.add_argument("--models", nargs="+", default=list(params.MODELS), choices=params.MODELS)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--reviews", type=Path, default=None, help="reviews.json")
    parser.add_argument("--layout", default="authors", choices=data.LAYOUTS)
    parser.add_argument("--K", type=int, default=DEFAULTS["K"], help="filter length")
    parser.add_argument("--repeats", type=int, default=1, help="best of this many runs")
    return parser


def _check(parser, args) -> None:
    for name in ("seeds", "loop_seeds", "epochs", "seq_len", "threads", "K", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.loop_seeds > args.seeds:
        parser.error("--loop-seeds must not exceed --seeds (the loop runs the first seeds)")


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    try:
        device = resolve_device(args.device)
    except ValueError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    reviews_path = args.reviews if args.reviews is not None else default_reviews()
    if not Path(reviews_path).exists():
        print(f"{PROG}: no reviews.json at {reviews_path} (see --reviews)", file=sys.stderr)
        return 2
    configure_torch(threads=args.threads)
    settings = train.ReviewTrainSettings.from_config(
        {**DEFAULTS["training"], "epochs": args.epochs}
    )
    splits, p, n_reviews = prepare_splits(reviews_path, args.seq_len, args.layout)

    print(
        f"reviews bench: device {device_label(device)}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, S = {args.seeds} engine seeds, "
        f"{args.loop_seeds} loop seeds, epochs {args.epochs}, seq_len {args.seq_len}"
    )
    print(
        f"  data {reviews_path} (N = {n_reviews}, split {'/'.join(map(str, SPLIT_SIZES))}, "
        f"layout {args.layout}); p {p}, H {HIDDEN}, K {args.K}, {settings.dtype}, "
        f"batch {settings.batch_size}, best of {args.repeats}"
    )
    print(
        f"  engine = train.fit + test evaluate, {ENGINE[device.type == 'cuda']}; loop = "
        "reference.reference_train, one seed at a time, on the first "
        f"{args.loop_seeds} seeds; per seed-epoch = seconds / (seeds x epochs), so the loop "
        f"for all {args.seeds} seeds is extrapolated as {args.seeds} x its s/seed-epoch"
    )
    print(
        f"{'model':>7}  {'params':>9}  {'engine s/seed-epoch':>19}  {'loop s/seed-epoch':>17}  "
        f"{'ratio':>8}  {'engine s (S seeds)':>18}  {'loop s (extrap. S)':>18}",
        flush=True,
    )
    for model in args.models:
        r = bench_model(
            model,
            splits,
            seeds=args.seeds,
            loop_seeds=args.loop_seeds,
            K=args.K,
            p=p,
            settings=settings,
            device=device,
            repeats=args.repeats,
        )
        loop_all = r["loop_s_per_seed_epoch"] * args.seeds * args.epochs
        print(
            f"{model:>7}  {r['n_params']:>9}  {r['engine_s_per_seed_epoch']:>19.4g}  "
            f"{r['loop_s_per_seed_epoch']:>17.4g}  {r['ratio']:>7.3g}x  "
            f"{r['engine_s']:>18.4g}  {loop_all:>18.4g}",
            flush=True,
        )
    print("only the ratios are meant to be compared across machines")
    return 0

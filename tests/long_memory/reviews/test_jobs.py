"""The review jobs' command lines: embed-reviews (counts, files) and train-reviews."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnmem.core.io import load_arrays
from rnnmem.long_memory.reviews import jobs


def test_counts_are_the_specs(reviews):
    counts = jobs.data_counts(reviews, 150)
    assert (counts["papers"], counts["spanish_reviews"], counts["kept_reviews"]) == (172, 388, 382)
    assert (counts["tokens"], counts["words"]) == (62_417, 7_106)
    assert sorted(counts["class_counts"].values(), reverse=True) == [99, 85, 81, 59, 58]
    assert counts["longer_than_seq_len"] == 159


def test_embed_main_writes_corpus_embeddings_and_counts(reviews_json, tmp_path, capsys):
    w2v = {"sg": 1, "vector_size": 4, "window": 2, "min_count": 1, "epochs": 1, "negative": 5}
    w2v |= {"sample": 0.001, "alpha": 0.025, "min_alpha": 0.0001, "seed": 1, "workers": 1}
    files = {k: tmp_path / name for k, name in (("corpus", "c.txt"), ("embeddings", "e.npz"))}
    args = ["--reviews", str(reviews_json), "--settings", json.dumps(w2v), "--seq-len", "150"]
    args += [f"--{k}={v}" for k, v in files.items()] + ["--counts", str(tmp_path / "n.json")]
    assert jobs.embed_main(args) == 0
    counts = json.loads((tmp_path / "n.json").read_text())
    assert counts["kept_reviews"] == 382 and counts["embedding"]["gensim_version"] == "4.4.0"
    sidecar = json.loads((tmp_path / "e.npz.provenance.json").read_text())
    assert counts["embedding"]["sha256"] == sidecar["sha256"]
    assert len(files["corpus"].read_text().split()) == 62_417


def job_settings(**change) -> dict:
    training = {"lr": 0.001, "weight_decay": 0.0005, "betas": [0.9, 0.999], "eps": 1e-8}
    training |= {"batch_size": 64, "epochs": 1, "dtype": "float32"}
    job = {"layout": "authors", "model": "mrnnf", "K": 3, "hidden": 4, "seq_len": 8}
    job |= {"split_seed": 0, "split_sizes": [282, 50, 50], "seeds": [0, 1], "seed_chunk": 1}
    job |= {"threads": 1, "tier": "test", "training": training}
    return job | change


def test_train_main_writes_one_file_per_seed(reviews_json, w2v_runs, tmp_path):
    out = [str(tmp_path / f"seed{s}.npz") for s in (0, 1)]
    args = ["--reviews", str(reviews_json), "--embeddings", str(w2v_runs[0] / "emb.npz")]
    args += ["--device-record", str(tmp_path / "device.json")]
    assert jobs.train_main(["--settings", json.dumps(job_settings()), *args, "--out", *out]) == 0
    metas = [load_arrays(path)[1] for path in out]
    assert [m["seed"] for m in metas] == [0, 1]
    assert {m["layout"] for m in metas} == {"authors"} and metas[0]["label"] == "MRNNF3"
    assert 0 <= metas[0]["majority_accuracy"] <= 1 and metas[0]["device"] == "cpu"
    assert json.loads((tmp_path / "device.json").read_text())["device"] == "cpu"
    arrays, _ = load_arrays(out[1])
    # seed_chunk 1: seed 1 trained alone; the same as in a two-seed chunk
    together = tmp_path / "together"
    together.mkdir()
    pair = [str(together / f"seed{s}.npz") for s in (0, 1)]
    settings = json.dumps(job_settings(seed_chunk=2))
    jobs.train_main(["--settings", settings, *args, "--out", *pair])
    assert np.array_equal(load_arrays(pair[1])[0]["test_logp"], arrays["test_logp"])

    with pytest.raises(SystemExit):
        jobs.train_main(["--settings", json.dumps(job_settings()), *args, "--out", out[0]])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"layout": "rows"}, "layout 'rows'"),
        ({"model": "gru"}, "model 'gru'"),
        ({"seeds": []}, "seed"),
    ],
)
def test_bad_job_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        jobs.ReviewJob(**job_settings(**change))


def test_schema_defaults_are_the_specs_values():
    """The one place the defaults live (the schema) holds long-memory.md §11's values."""
    from rnnmem.core.settings import schema_defaults

    reviews = schema_defaults("long_memory")["reviews"]
    assert (reviews["K"], reviews["hidden"], reviews["seq_len"], reviews["seeds"]) == (
        50,
        128,
        150,
        100,
    )
    assert reviews["split_sizes"] == [282, 50, 50] and reviews["layouts"] == ["authors"]
    assert reviews["word2vec"] == {
        "sg": 1, "vector_size": 16, "window": 16, "min_count": 1, "epochs": 5, "negative": 5,
        "sample": 1e-3, "alpha": 0.025, "min_alpha": 0.0001, "seed": 1, "workers": 1,
    }  # fmt: skip
    assert reviews["training"] == {
        "lr": 0.001, "weight_decay": 5e-4, "betas": [0.9, 0.999], "eps": 1e-8,
        "batch_size": 64, "epochs": 100, "dtype": "float32",
    }  # fmt: skip


def test_train_main_device_record_has_seconds_and_work(reviews_json, w2v_runs, tmp_path):
    from rnnmem.long_memory.reviews import cost

    settings = job_settings(seeds=[3], training={**job_settings()["training"], "epochs": 2})
    args = ["--reviews", str(reviews_json), "--embeddings", str(w2v_runs[0] / "emb.npz")]
    args += ["--device-record", str(tmp_path / "device.json"), "--out", str(tmp_path / "s.npz")]
    assert jobs.train_main(["--settings", json.dumps(settings), *args]) == 0
    record = json.loads((tmp_path / "device.json").read_text())
    assert record["device"] == "cpu" and record["torch_threads"] == 1
    assert isinstance(record["seconds"], float) and record["seconds"] > 0
    assert record["work_unit"] == cost.WORK_UNIT == "madd"
    # one seed, 2 epochs x (3 x 282 + 50) reviews + 50 test reviews, 8 steps each, at p = 16
    # (the word2vec size), H = 4, K = 3: MRNNF 2 H (p + H) + 2 H^2 + K p + the LSTM 8 H^2
    step = 2 * 4 * 20 + 2 * 16 + 3 * 16 + 8 * 16
    assert record["work"] == float((2 * (3 * 282 + 50) + 50) * 8 * step)


def test_review_work_scales_with_seeds_epochs_and_steps():
    from rnnmem.long_memory.reviews import cost

    base = job_settings(model="lstm", hidden=128, seq_len=150, seeds=[0])
    work = cost.review_work(base, 16)
    assert cost.review_step_madds("lstm", 16, 128, 50) == 4 * 128 * 144 + 8 * 128 * 128
    assert work == float((3 * 282 + 50 + 50) * 150 * cost.review_step_madds("lstm", 16, 128, 50))
    assert cost.review_work({**base, "seeds": [0, 1, 2]}, 16) == 3 * work
    assert cost.review_work({**base, "seq_len": 75}, 16) == work / 2
    more = {**base, "training": {**base["training"], "epochs": 3}}
    assert cost.review_work(more, 16) == float((3 * (3 * 282 + 50) + 50) * 150 * 204_800)
    with pytest.raises(ValueError, match="gru"):
        cost.review_step_madds("gru", 16, 128, 50)

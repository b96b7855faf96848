"""reviews/train.py (seed-batched) against reference.reference_train (per seed, torch Adam).

Float64, a small slice of the real data (20 training reviews in batches of 8, 8 and 4;
6 validation and 6 test reviews; 16 steps), 2 epochs, to 1e-10.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rnnmem.core.io import load_arrays, save_arrays
from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.reviews import data, params, train
from rnnmem.long_memory.reviews.reference import reference_train

REVIEWS = schema_defaults("long_memory")["reviews"]  # the workflow's defaults

p, H, C, K = 16, 128, 5, 6
TOL = 1e-10
SETTINGS = train.ReviewTrainSettings(
    **{**REVIEWS["training"], "epochs": 2, "batch_size": 8, "dtype": "float64"}
)


def _small(split, n: int, T: int = 16):
    return data.ReviewSplit(
        x=split.x[:T, :n], y=split.y[:n], idx=split.idx[:n] % T, review=split.review[:n]
    )


@pytest.fixture(scope="module")
def small_splits(short_splits):
    s = short_splits["authors"]
    return {
        "train": _small(s["train"], 20),
        "val": _small(s["val"], 6),
        "test": _small(s["test"], 6),
    }


def test_batch_bounds():
    assert train.batch_bounds(282, 64) == [(0, 64), (64, 128), (128, 192), (192, 256), (256, 282)]
    assert train.batch_bounds(50, 64) == [(0, 50)]


def test_settings_exact_fields():
    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(SETTINGS))
    cfg = {**REVIEWS["training"], "betas": [0.9, 0.999]}
    assert train.ReviewTrainSettings.from_config(cfg).betas == (0.9, 0.999)
    with pytest.raises(ValueError, match="missing"):
        train.ReviewTrainSettings.from_config({k: v for k, v in cfg.items() if k != "lr"})
    with pytest.raises(ValueError):
        train.ReviewTrainSettings(**{**REVIEWS["training"], "dtype": "float16"})


@pytest.mark.parametrize("model", params.MODELS)
def test_batched_training_equals_per_seed_torch_adam(small_splits, model):
    seeds = [0, 1]
    P0 = params.init_params(model, seeds, p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    fit = train.fit(model, P0, small_splits, K=K, settings=SETTINGS, device=torch.device("cpu"))
    logp = train.evaluate(
        model, fit.snapshot, small_splits["test"], K=K, dtype=torch.float64, device="cpu"
    )
    ref = reference_train(
        model, P0, small_splits, K=K, p=p, H=H, n_classes=C, settings=SETTINGS, device="cpu"
    )
    assert fit.batch_loss.shape == (2, 2, 3)
    for s, r in enumerate(ref):
        np.testing.assert_allclose(fit.batch_loss[s], r["batch_loss"], rtol=0, atol=TOL)
        np.testing.assert_allclose(fit.val_loss[s], r["val_loss"], rtol=0, atol=TOL)
        assert fit.best_epoch[s] == r["best_epoch"]
        for name, value in r["params"].items():
            got = fit.params[name][s].numpy()
            np.testing.assert_allclose(got, value, rtol=0, atol=TOL, err_msg=name)
            if name in params.unused_params(model):  # Adam never touches them
                np.testing.assert_array_equal(got, P0[name][s].numpy())
        np.testing.assert_allclose(logp[s], r["test_logp"], rtol=0, atol=TOL)
    # the parameters did move, and by different amounts per seed
    assert not torch.equal(fit.params["fc_w"], P0["fc_w"])


def test_weight_decay_is_applied(small_splits):
    P0 = params.init_params("rnn", [0], p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    cpu = torch.device("cpu")
    runs = [
        train.fit(
            "rnn",
            P0,
            small_splits,
            K=K,
            settings=dataclasses.replace(SETTINGS, weight_decay=wd),
            device=cpu,
        )
        for wd in (0.0, SETTINGS.weight_decay)
    ]
    assert not torch.equal(runs[0].params["w_hh"], runs[1].params["w_hh"])


def test_selection_strict_and_nan():
    best_val = torch.tensor([1.0, 1.0, 1.0])
    best_epoch = torch.tensor([3, 3, 3])
    snap = {"w": torch.zeros(3, 2)}
    now = {"w": torch.ones(3, 2)}
    V = torch.tensor([0.5, 1.0, float("nan")])  # better, tie, NaN
    bv, be, sn = train.select(V, 7, now, best_val, best_epoch, snap)
    assert bv.tolist() == [0.5, 1.0, 1.0] and be.tolist() == [7, 3, 3]
    assert sn["w"].tolist() == [[1, 1], [0, 0], [0, 0]]
    assert best_epoch.tolist() == [3, 3, 3] and not snap["w"].any()  # inputs untouched


def test_train_reviews_results(small_splits, tmp_path):
    kw = dict(p=p, H=H, n_classes=C, K=K, settings=SETTINGS, gpus=0)
    extra = {"layout": "authors", "embedding_sha256": "x"}
    many = train.train_reviews("lstm", [3, 8], small_splits, extra_meta=extra, **kw)
    alone = train.train_reviews("lstm", [8], small_splits, extra_meta=extra, **kw)
    assert [r.seed for r in many] == [3, 8]
    r = many[1]
    assert r.meta["seed"] == 8 and r.meta["label"] == "LSTM" and r.meta["layout"] == "authors"
    assert r.meta["device"] == "cpu" and r.meta["n_params"] == params.n_params("lstm", p, H, C)
    assert r.arrays["batch_loss"].shape == (2, 3) and r.arrays["val_loss"].shape == (2,)
    np.testing.assert_array_equal(r.arrays["test_true"], small_splits["test"].y)
    np.testing.assert_array_equal(r.arrays["test_pred"], r.arrays["test_logp"].argmax(1))
    assert set(r.meta["test"]) == {"accuracy", "precision", "recall", "f1", "loss"}
    assert r.meta["best_epoch"] == int(np.argmin(r.arrays["val_loss"]))
    # a seed's result does not depend on its companions
    for key, value in r.arrays.items():
        np.testing.assert_array_equal(value, alone[0].arrays[key], err_msg=key)
    assert r.meta == alone[0].meta
    # ready for one file per seed, byte-reproducibly
    save_arrays(tmp_path / "a.npz", r.arrays, r.meta)
    save_arrays(tmp_path / "b.npz", alone[0].arrays, alone[0].meta)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    arrays, meta = load_arrays(tmp_path / "a.npz")
    assert meta["test"] == r.meta["test"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")
def test_cuda_training_equals_cpu(small_splits):
    kw = dict(p=p, H=H, n_classes=C, K=K, settings=SETTINGS, extra_meta={})
    for model in params.MODELS:
        cpu = train.train_reviews(model, [0, 1], small_splits, gpus=0, **kw)
        gpu = train.train_reviews(model, [0, 1], small_splits, gpus=1, **kw)
        assert gpu[0].meta["device"].startswith("cuda")
        for a, b in zip(cpu, gpu, strict=True):
            for key in ("batch_loss", "val_loss", "test_logp"):
                np.testing.assert_allclose(b.arrays[key], a.arrays[key], rtol=0, atol=TOL)
            assert a.meta["best_epoch"] == b.meta["best_epoch"]

"""Seed-batched training on the fused kernels = per-seed, unbatched training on the plain
reference (torch autograd, one seed at a time), for every model, in float64."""

import numpy as np
import pytest

from rnnmem.core.settings import schema_defaults
from rnnmem.long_memory.cells import MODELS, init_params
from rnnmem.long_memory.kernels import KERNELS
from rnnmem.long_memory.reference import reference_loss_grad
from rnnmem.long_memory.train import TrainSettings, train_seeds

K, N_TRAIN, N_VAL = 10, 50, 20


def series():
    rng = np.random.default_rng(7)  # a rough, mean-reverting series scaled to [0, 1]
    values = np.cumsum(rng.standard_normal(N_TRAIN + N_VAL + 1)) * 0.3
    values = (values - values.min()) / (values.max() - values.min())
    return values[:-1, None], values[1:, None]


def settings(**changes) -> TrainSettings:
    training = schema_defaults("long_memory")["training"]
    training.pop("checkpoint_every")
    return TrainSettings.from_config({**training, "dtype": "float64", **changes})


def per_seed_reference(model):
    """loss_grad through the reference, one seed at a time (no batching at all)."""

    def loss_grad(params, x, y, n_train, n_val, K, active):
        n = next(iter(params.values())).shape[0]
        out = [
            reference_loss_grad(
                model, {k: v[s : s + 1] for k, v in params.items()}, x, y, n_train, n_val, K
            )
            for s in range(n)
        ]
        train = np.concatenate([o[0] for o in out])
        val = np.concatenate([o[1] for o in out])
        grads = {k: np.concatenate([o[2][k] for o in out]) for k in params}
        train[~active], val[~active] = np.nan, np.nan
        for g in grads.values():
            g[~active] = 0
        return train, val, grads

    return loss_grad


@pytest.mark.parametrize("model", MODELS)
def test_first_epochs_and_selection_agree_with_the_per_seed_reference(model):
    x, y = series()
    params0 = init_params(model, [0, 1, 2], K=K, dtype=np.float64)
    rule = settings(max_epochs=4, patience=2)
    fused = train_seeds(KERNELS[model].loss_grad, params0, x, y, N_TRAIN, N_VAL, K, rule)
    plain = train_seeds(per_seed_reference(model), params0, x, y, N_TRAIN, N_VAL, K, rule)
    np.testing.assert_allclose(fused.train_loss, plain.train_loss, rtol=1e-10, atol=0)
    np.testing.assert_allclose(fused.val_loss, plain.val_loss, rtol=1e-10, atol=0)
    np.testing.assert_array_equal(fused.best_epoch, plain.best_epoch)
    np.testing.assert_array_equal(fused.stop_epoch, plain.stop_epoch)
    for name in params0:
        np.testing.assert_allclose(
            fused.snapshot[name], plain.snapshot[name], rtol=1e-10, atol=1e-13, err_msg=name
        )

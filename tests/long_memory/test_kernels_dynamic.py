"""Kernels of mrnn, mlstm, rwa and mist against torch autograd of the plain equations.

The oracle below is a per-seed, unbatched torch implementation (a Python loop over steps) of
the contract's equations; losses and every gradient must agree to 1e-10 in float64. Further:
val_loss is the loss of the continued pass, forward() gives the same predictions, inactive
seeds get NaN losses and zero gradients, and a seed's bits do not depend on its batch.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import torch

from rnnmem.long_memory.cells import init_params, param_shapes
from rnnmem.long_memory.kernels import common_dynamic as cd
from rnnmem.long_memory.kernels import mist, mlstm, mrnn, rwa
from rnnmem.long_memory.kernels.filters import fill_pi_and_grad
from rnnmem.long_memory.reference import reference_forward, reference_loss_grad

KERNELS = {"mrnn": mrnn, "mlstm": mlstm, "rwa": rwa, "mist": mist}


def shapes(model: str, H: int) -> dict:
    """Single-seed parameter shapes in creation order (the contract's lists, p = q = 1)."""
    if model == "mrnn":
        unused = dict(unused_w_ih=(H, 1), unused_w_hh=(H, H), unused_b_ih=(H,), unused_b_hh=(H,))
        return unused | dict(
            w_dd=(1, 1), b_d=(1,), w_hd=(1, H), w_md=(1, H), w_xd=(1, 1), w_mm=(H, H), b_m=(H,),
            w_fm=(H, 1), w_hh=(H, H), b_h=(H,), w_xh=(H, 1), w_hz=(1, H), b_z=(1,), w_mz=(1, H),
        )  # fmt: skip
    if model == "mlstm":
        return dict(w_c=(H, 1 + H), b_c=(H,), w_i=(H, 1 + H), b_i=(H,), w_f=(H, 1 + 2 * H),
                    b_f=(H,), w_o=(H, 1 + H), b_o=(H,), w_out=(1, H), b_out=(1,))  # fmt: skip
    if model == "rwa":
        return dict(s=(H,), w_u=(H, 1), b_u=(H,), w_g=(H, 1 + H), b_g=(H,), w_a=(H, 1 + H),
                    w_out=(1, H), b_out=(1,))  # fmt: skip
    return dict(w_alpha=(8, 1 + H), b_alpha=(8,), w_r=(H, 1 + H), b_r=(H,), w_h=(H, H),
                w_x=(H, 1), b_x=(H,), w_out=(1, H), b_out=(1,))  # fmt: skip


def make_params(model, H, S, dtype=np.float64, seed=0, scale=0.8):
    rng = np.random.default_rng(seed)
    return {
        k: rng.uniform(-scale, scale, (S,) + v).astype(dtype) for k, v in shapes(model, H).items()
    }


def make_series(T, seed=1):
    """A smooth, long-memory-looking series and its one-step-ahead target."""
    rng = np.random.default_rng(seed)
    z = np.cumsum(rng.standard_normal(T + 1)) * 0.3
    z = np.tanh(z - z.mean()) + 0.1 * rng.standard_normal(T + 1)
    return z[:-1, None].copy(), z[1:, None].copy()


# ---- the oracle: torch, one seed, a Python loop over steps --------------------------------


def _pi(d, K):
    """pi_j(d), j = 1..K, along a new last axis (cumulative product of (j - 1 - d) / j)."""
    j = torch.arange(1, K + 1, dtype=d.dtype)
    return torch.cumprod((j - 1 - d.unsqueeze(-1)) / j, dim=-1)


def _step_mrnn(P, x, t, state, K):
    h, m, d = state
    d = 0.5 * torch.sigmoid(
        P["w_dd"] @ d + P["b_d"] + P["w_hd"] @ h + P["w_md"] @ m + P["w_xd"] @ x[t]
    )
    lags = torch.stack(
        [x[t + 1 - j] if t + 1 - j >= 0 else torch.zeros_like(x[0]) for j in range(1, K + 1)]
    )
    F = (_pi(d, K)[0] * lags[:, 0]).sum().reshape(1)  # fmt: skip
    m = torch.tanh(P["w_mm"] @ m + P["b_m"] + P["w_fm"] @ F)
    h = torch.tanh(P["w_hh"] @ h + P["b_h"] + P["w_xh"] @ x[t])
    return P["w_hz"] @ h + P["b_z"] + P["w_mz"] @ m, (h, m, d)


def _step_mlstm(P, x, t, state, K):
    h, d, cells = state
    u = torch.cat([x[t], h])
    i = torch.sigmoid(P["w_i"] @ u + P["b_i"])
    o = torch.sigmoid(P["w_o"] @ u + P["b_o"])
    g = torch.tanh(P["w_c"] @ u + P["b_c"])
    d = 0.5 * torch.sigmoid(P["w_f"] @ torch.cat([x[t], h, d]) + P["b_f"])
    past = [cells[-j] if j <= len(cells) else torch.zeros_like(h) for j in range(1, K + 1)]
    c = (-_pi(d, K).T * torch.stack(past)).sum(0) + i * g  # c_{t-1} is lag 1
    h = o * torch.tanh(c)
    return P["w_out"] @ h + P["b_out"], (h, d, cells + [c])


def _step_rwa(P, x, t, state, K):
    h, n, den, M = state
    v = torch.cat([x[t], h])
    z = (P["w_u"] @ x[t] + P["b_u"]) * torch.tanh(P["w_g"] @ v + P["b_g"])
    a = P["w_a"] @ v
    M_new = torch.maximum(M, a)
    scale, e = torch.exp(M - M_new), torch.exp(a - M_new)
    n, den = n * scale + z * e, den * scale + e
    h = torch.tanh(n / den)
    return P["w_out"] @ h + P["b_out"], (h, n, den, M_new)


def _step_mist(P, x, t, state, K):
    hs = state  # hs[t] = h_t, h_0 = 0; h before the start = 0
    u = torch.cat([x[t], hs[-1]])
    alpha = torch.softmax(P["w_alpha"] @ u + P["b_alpha"], dim=0)
    r = torch.sigmoid(P["w_r"] @ u + P["b_r"])
    now = len(hs)  # 1-based time of the new state
    mix = sum(
        alpha[i] * (hs[now - 2**i] if now - 2**i >= 0 else torch.zeros_like(hs[0]))
        for i in range(8)
    )
    h = torch.tanh(P["w_h"] @ (r * mix) + P["w_x"] @ x[t] + P["b_x"])
    return P["w_out"] @ h + P["b_out"], hs + [h]


def _initial(model, P, H):
    zero = torch.zeros(H, dtype=torch.float64)
    if model == "mrnn":
        return zero, zero, torch.zeros(1, dtype=torch.float64)
    if model == "mlstm":
        return zero, zero, []
    if model == "rwa":
        return torch.tanh(P["s"]), zero, zero, torch.full((H,), -torch.inf, dtype=torch.float64)
    return [zero]


STEPS = {"mrnn": _step_mrnn, "mlstm": _step_mlstm, "rwa": _step_rwa, "mist": _step_mist}


def torch_oracle(model, params, s, x, y, n_train, n_val, K):
    """(yhat [T], train loss, val loss, grads) of seed s, float64 autograd."""
    H = params["w_out" if model != "mrnn" else "w_hz"].shape[2]
    P = {k: torch.tensor(v[s], dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    xt, yt = torch.tensor(x[: n_train + n_val]), torch.tensor(y[: n_train + n_val, 0])
    state, out = _initial(model, P, H), []
    for t in range(n_train + n_val):
        yh, state = STEPS[model](P, xt, t, state, K)
        out.append(yh[0])
    yhat = torch.stack(out)
    train = ((yhat[:n_train] - yt[:n_train]) ** 2).mean()
    val = ((yhat[n_train:] - yt[n_train:]) ** 2).mean()
    grads = torch.autograd.grad(train, list(P.values()), allow_unused=True)
    grads = {
        k: np.zeros_like(v[s]) if g is None else g.numpy()
        for (k, v), g in zip(params.items(), grads, strict=True)
    }
    return yhat.detach().numpy(), train.item(), val.item(), grads


# ---- tests -------------------------------------------------------------------------------

CASES = [(m, H, 12) for m in KERNELS for H in (1, 3)] + [("mrnn", 2, 100), ("mlstm", 2, 100)]


@pytest.mark.parametrize("model,H,K", CASES)
def test_matches_torch_autograd(model, H, K):
    S, n_train, n_val = 3, 70 if K < 100 else 130, 30
    params = make_params(model, H, S, seed=H)
    x, y = make_series(n_train + n_val + 5)
    train, val, grads = KERNELS[model].loss_grad(params, x, y, n_train, n_val, K, np.ones(S, bool))
    yhat = KERNELS[model].forward(params, x[: n_train + n_val], K)
    assert yhat.shape == (S, n_train + n_val, 1) and yhat.dtype == np.float64
    assert list(grads) == list(params)
    for s in range(S):
        ref_yhat, ref_train, ref_val, ref_grads = torch_oracle(
            model, params, s, x, y, n_train, n_val, K
        )
        np.testing.assert_allclose(yhat[s, :, 0], ref_yhat, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(train[s], ref_train, rtol=1e-10)
        np.testing.assert_allclose(val[s], ref_val, rtol=1e-10)
        for name in params:
            assert grads[name].shape == params[name].shape
            np.testing.assert_allclose(
                grads[name][s], ref_grads[name], rtol=1e-10, atol=1e-12, err_msg=name
            )
        assert np.abs(np.concatenate([ref_grads[k].ravel() for k in ref_grads])).max() > 1e-4


@pytest.mark.parametrize("model,H", [(m, H) for m in KERNELS for H in (1, 2)])
def test_matches_the_project_reference(model, H):
    """Against rnnmem.long_memory.reference (the project's oracle), from the real initialisation."""
    assert shapes(model, H) == param_shapes(model, H)
    K, n_train, n_val = 16, 60, 25
    params = init_params(model, [0, 1, 2], H=H, K=K, dtype=np.float64)
    x, y = make_series(n_train + n_val, seed=9)
    train, val, grads = KERNELS[model].loss_grad(params, x, y, n_train, n_val, K, None)
    ref_train, ref_val, ref_grads = reference_loss_grad(model, params, x, y, n_train, n_val, K)
    np.testing.assert_allclose(train, ref_train, rtol=1e-10)
    np.testing.assert_allclose(val, ref_val, rtol=1e-10)
    for name in params:
        np.testing.assert_allclose(
            grads[name], ref_grads[name], rtol=1e-10, atol=1e-12, err_msg=name
        )
    yhat = KERNELS[model].forward(params, x, K)
    one = {k: torch.tensor(v[1]) for k, v in params.items()}
    ref_yhat = reference_forward(model, one, torch.tensor(x), K).numpy()
    np.testing.assert_allclose(yhat[1], ref_yhat, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("model", KERNELS)
def test_val_loss_is_the_continued_pass_and_forward_matches(model):
    S, H, K, n_train, n_val = 4, 2, 10, 50, 25
    params = make_params(model, H, S, seed=7)
    x, y = make_series(n_train + n_val)
    train, val, _ = KERNELS[model].loss_grad(params, x, y, n_train, n_val, K, None)
    yhat = KERNELS[model].forward(params, x, K)[:, :, 0]
    err = (yhat - y[:, 0]) ** 2
    np.testing.assert_allclose(train, err[:, :n_train].mean(1), rtol=1e-13)
    np.testing.assert_allclose(val, err[:, n_train:].mean(1), rtol=1e-13)
    # a shorter pass gives the same first predictions (causal, from the zero state)
    np.testing.assert_array_equal(KERNELS[model].forward(params, x[:20], K)[:, :, 0], yhat[:, :20])
    _, no_val, _ = KERNELS[model].loss_grad(params, x, y, n_train, 0, K, None)
    assert np.isnan(no_val).all()


@pytest.mark.parametrize("model", KERNELS)
def test_inactive_seeds_nan_losses_zero_grads(model):
    S, H, K = 5, 2, 8
    params = make_params(model, H, S, seed=3)
    x, y = make_series(60)
    active = np.array([True, False, True, False, True])
    train, val, grads = KERNELS[model].loss_grad(params, x, y, 40, 20, K, active)
    full = KERNELS[model].loss_grad(params, x, y, 40, 20, K, np.ones(S, bool))
    assert np.isnan(train[~active]).all() and np.isnan(val[~active]).all()
    np.testing.assert_array_equal(train[active], full[0][active])
    np.testing.assert_array_equal(val[active], full[1][active])
    for name in params:
        assert not grads[name][~active].any(), name
        np.testing.assert_array_equal(grads[name][active], full[2][name][active])
    train, val, grads = KERNELS[model].loss_grad(params, x, y, 40, 20, K, np.zeros(S, bool))
    assert np.isnan(train).all() and not any(g.any() for g in grads.values())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("model", KERNELS)
def test_seed_bits_do_not_depend_on_the_batch(model, dtype):
    H, K, n_train, n_val = 2, 12, 60, 20
    big = make_params(model, H, 19, dtype, seed=11)
    x, y = make_series(n_train + n_val)
    kern = KERNELS[model]

    def run(params):
        train, val, grads = kern.loss_grad(params, x, y, n_train, n_val, K, None)
        return [train, val, kern.forward(params, x, K)] + list(grads.values())

    batch = run(big)
    for s in (0, 4, 17):  # alone (scalar code) vs inside a batch (vector lanes)
        alone = run({k: v[s : s + 1] for k, v in big.items()})
        for a, b in zip(alone, batch, strict=True):
            np.testing.assert_array_equal(a[0], b[s])
    five = run({k: v[2:7] for k, v in big.items()})
    for a, b in zip(five, batch, strict=True):
        np.testing.assert_array_equal(a, b[2:7])
    # a NaN parameter in seed 3 leaves every other seed's bits unchanged
    poisoned = {k: v.copy() for k, v in big.items()}
    for v in poisoned.values():
        v[3].flat[0] = np.nan
    bad = run(poisoned)
    assert np.isnan(bad[0][3])
    others = np.arange(19) != 3
    for a, b in zip(bad, batch, strict=True):
        np.testing.assert_array_equal(a[others], b[others])


@pytest.mark.parametrize("model", KERNELS)
def test_float32_close_to_float64(model):
    S, H, K = 3, 2, 20
    p64 = make_params(model, H, S, seed=5, scale=0.5)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    x, y = make_series(120)
    r64 = KERNELS[model].loss_grad(p64, x, y, 90, 30, K, None)
    r32 = KERNELS[model].loss_grad(p32, x, y, 90, 30, K, None)
    assert r32[0].dtype == np.float32 and all(g.dtype == np.float32 for g in r32[2].values())
    assert KERNELS[model].forward(p32, x, K).dtype == np.float32
    np.testing.assert_allclose(r32[0], r64[0], rtol=1e-4)
    np.testing.assert_allclose(r32[1], r64[1], rtol=1e-4)
    for name in p64:
        scale = np.abs(r64[2][name]).max() + 1e-3
        np.testing.assert_allclose(r32[2][name], r64[2][name], atol=1e-3 * scale, err_msg=name)


def test_filter_sweeps_follow_fill_pi_and_grad():
    """pi_j: fill_pi_and_grad's bits (float64); d pi_j / d d: within rounding of it."""
    K, T, n = 30, 50, 6
    rng = np.random.default_rng(2)
    d = rng.uniform(0.01, 0.49, n)
    x = rng.standard_normal(T)
    hist = rng.standard_normal((T, 1, n))
    pi, gr = np.empty(K), np.empty(K)
    f, g, pv, pg = (np.empty(n) for _ in range(4))
    for t in (3, 40):
        lags = min(K, t + 1)
        cd.pi_sweep_scalar(d, x, t, lags, f, g, pv, pg)
        f_only = np.empty(n)
        cd.pi_sweep_scalar_nograd(d, x, t, lags, f_only, pv)
        for s in range(n):
            fill_pi_and_grad(d[s], pi, gr)
            window = x[t + 1 - np.arange(1, lags + 1)]
            assert f[s] == f_only[s] == sum_in_order(pi[:lags] * window)
            np.testing.assert_allclose(g[s], sum_in_order(gr[:lags] * window), rtol=1e-13)
    t = 40
    past = hist[t - 1 : t - K - 1 : -1, 0]  # c_{t-1}, ..., c_{t-K}
    cd.pi_sweep_rows(d, hist, t, 0, K, f, g, pv, pg, True)
    f_only = np.empty(n)
    cd.pi_sweep_rows(d, hist, t, 0, K, f_only, np.empty(n), pv, pg, False)
    dc = rng.standard_normal(n)
    grad_hist = np.zeros((T, 1, n))
    cd.pi_scatter_rows(d, dc, grad_hist, t, 0, K, pv)
    for s in range(n):
        fill_pi_and_grad(d[s], pi, gr)
        assert f[s] == f_only[s] == sum_in_order(pi * past[:, s])
        np.testing.assert_allclose(g[s], sum_in_order(gr * past[:, s]), rtol=1e-13)
        np.testing.assert_array_equal(grad_hist[t - 1 : t - K - 1 : -1, 0, s], -(pi * dc[s]))
        assert not grad_hist[: t - K, 0, s].any() and not grad_hist[t:, 0, s].any()


def sum_in_order(values):
    acc = 0.0
    for v in values:
        acc += v
    return acc


@numba.njit
def _tanh_all(values, out):
    for i in range(values.shape[0]):
        out[i] = cd.tanh(values[i])


def test_float32_tanh_is_within_one_ulp():
    rng = np.random.default_rng(4)
    grid = np.geomspace(1e-30, 30, 200_000)
    x = np.concatenate([rng.uniform(-12, 12, 200_000), grid, -grid, [0.0, -0.0]]).astype(np.float32)
    out = np.empty_like(x)
    _tanh_all(x, out)
    exact = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert (np.abs(out - exact) <= ulp).all()
    special = np.array([np.nan, np.inf, -np.inf], np.float32)
    _tanh_all(special, out[:3])
    assert np.isnan(out[0]) and out[1] == 1.0 and out[2] == -1.0
    x64 = x[:1000].astype(np.float64)  # float64: libm's tanh itself
    out64 = np.empty(1000)
    _tanh_all(x64, out64)
    np.testing.assert_array_equal(out64, [math.tanh(v) for v in x64])

"""Fused kernels of rnn, lstm, mrnnf, rnn2, mlstmf against torch autograd of the plain equations.

The torch references below are written from the contract's equations, one seed at a time, with a
Python loop over steps. In float64 the kernels' losses, predictions and every gradient must agree
with them to 1e-10; seeds must not influence each other (bit for bit, float32 and float64).
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
import torch

from rnnmem.long_memory import cells, reference
from rnnmem.long_memory.kernels import common_fixed as cf
from rnnmem.long_memory.kernels import filters, lstm, mlstmf, mrnnf, rnn

MODELS = ("rnn", "lstm", "mrnnf", "rnn2", "mlstmf")


def shapes(model: str, H: int, K: int) -> dict:
    """Single-seed parameter shapes in creation order (the contract), p = q = 1."""
    if model == "rnn":
        return dict(w_ih=(H, 1), w_hh=(H, H), b_ih=(H,), b_hh=(H,), w_out=(1, H), b_out=(1,))
    if model == "lstm":
        G = 4 * H
        return dict(w_ih=(G, 1), w_hh=(G, H), b_ih=(G,), b_hh=(G,), w_out=(1, H), b_out=(1,))
    if model in ("mrnnf", "rnn2"):
        first = dict(a=(1,)) if model == "mrnnf" else dict(w_filter=(K, 1))
        rest = dict(unused_w_ih=(H, 1), unused_w_hh=(H, H), unused_b_ih=(H,), unused_b_hh=(H,))
        rest.update(w_mm=(H, H), b_m=(H,), w_fm=(H, 1), w_hh=(H, H), b_h=(H,), w_xh=(H, 1))
        rest.update(w_hz=(1, H), b_z=(1,), w_mz=(1, H))
        return {**first, **rest}
    assert model == "mlstmf"
    u = 1 + H
    return dict(
        a=(H,), w_c=(H, u), b_c=(H,), w_i=(H, u), b_i=(H,), unused_w_f=(H, u + H),
        unused_b_f=(H,), w_o=(H, u), b_o=(H,), w_out=(1, H), b_out=(1,),
    )  # fmt: skip


def make_params(model, S, H, K, dtype=np.float64, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes(model, H, K).items():
        if name == "a":  # spread d over (0, 0.5) so its gradient is exercised away from 0.25
            value = rng.normal(0.0, 1.5, (S, *shape))
        elif name == "w_filter":
            value = filters.pi_coefficients(0.25, K)[None, :, None] + rng.normal(0, 0.05, (S, K, 1))
        else:
            value = rng.uniform(-0.9, 0.9, (S, *shape))
        params[name] = np.ascontiguousarray(value, dtype=dtype)
    return params


def make_series(T, seed=1):
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.normal(0, 0.3, T + 1))
    s = (s - s.min()) / (s.max() - s.min())
    return s[:-1, None], s[1:, None]  # x_t, y_t = x_{t+1}


def kernel_fns(model):
    if model == "rnn2":
        return mrnnf.forward_rnn2, mrnnf.loss_grad_rnn2
    if model == "mrnnf":
        return mrnnf.forward_mrnnf, mrnnf.loss_grad_mrnnf
    module = dict(rnn=rnn, lstm=lstm, mlstmf=mlstmf)[model]
    return module.forward, module.loss_grad


# ---------------------------------------------------------------- torch references (one seed)


def pi_torch(d, K):
    """pi_1..pi_K(d) along the last axis (d: [C]) -> [C, K], the product form."""
    j = torch.arange(1, K + 1, dtype=d.dtype)
    return torch.cumprod((j - 1 - d[:, None]) / j, dim=1)


def ref_yhat(model, P, x, K):
    """Predictions [T] of one seed; P: name -> torch tensor (single-seed shapes), x: [T]."""
    T = x.shape[0]
    out = []
    if model == "rnn":
        H = P["w_hh"].shape[0]
        h = torch.zeros(H, dtype=x.dtype)
        for t in range(T):
            h = torch.tanh(P["w_ih"][:, 0] * x[t] + P["b_ih"] + P["w_hh"] @ h + P["b_hh"])
            out.append(P["w_out"][0] @ h + P["b_out"][0])
    elif model == "lstm":
        H = P["w_hh"].shape[1]
        h = torch.zeros(H, dtype=x.dtype)
        c = torch.zeros(H, dtype=x.dtype)
        for t in range(T):
            z = P["w_ih"][:, 0] * x[t] + P["b_ih"] + P["w_hh"] @ h + P["b_hh"]
            i, f, g, o = (
                z[:H].sigmoid(),
                z[H : 2 * H].sigmoid(),
                z[2 * H : 3 * H].tanh(),
                z[3 * H :],
            )
            c = f * c + i * g
            h = o.sigmoid() * torch.tanh(c)
            out.append(P["w_out"][0] @ h + P["b_out"][0])
    elif model in ("mrnnf", "rnn2"):
        H = P["w_hh"].shape[0]
        if model == "mrnnf":
            w = pi_torch(0.5 * torch.sigmoid(P["a"]), K)[0]
        else:
            w = P["w_filter"][:, 0]
        xpad = torch.cat([torch.zeros(K - 1, dtype=x.dtype), x])
        h = torch.zeros(H, dtype=x.dtype)
        m = torch.zeros(H, dtype=x.dtype)
        for t in range(T):
            window = xpad[t : t + K].flip(0)  # x_t, x_{t-1}, ..., x_{t-K+1}
            F = (w * window).sum()
            m = torch.tanh(P["w_mm"] @ m + P["b_m"] + P["w_fm"][:, 0] * F)
            h = torch.tanh(P["w_hh"] @ h + P["b_h"] + P["w_xh"][:, 0] * x[t])
            out.append(torch.tanh(P["w_hz"][0] @ h + P["b_z"][0] + P["w_mz"][0] @ m))
    else:
        H = P["w_c"].shape[0]
        negpi = -pi_torch(0.5 * torch.sigmoid(P["a"]), K)  # [H, K]
        cells = [torch.zeros(H, dtype=x.dtype)] * K  # c_{t-K} .. c_{t-1}
        h = torch.zeros(H, dtype=x.dtype)
        for t in range(T):
            u = torch.cat([x[t : t + 1], h])
            i = torch.sigmoid(P["w_i"] @ u + P["b_i"])
            o = torch.sigmoid(P["w_o"] @ u + P["b_o"])
            cc = torch.tanh(P["w_c"] @ u + P["b_c"])
            past = torch.stack(cells[::-1], dim=1)  # [H, K]: c_{t-1}, ..., c_{t-K}
            c = (negpi * past).sum(1) + i * cc
            cells = cells[1:] + [c]
            h = o * torch.tanh(c)
            out.append(P["w_out"][0] @ h + P["b_out"][0])
    return torch.stack(out)


def ref_loss_grad(model, params, s, x, y, n_train, n_val, K):
    """(train_loss, val_loss, grads, yhat) of seed s by torch autograd."""
    P = {k: torch.tensor(v[s], requires_grad=True) for k, v in params.items()}
    xt = torch.tensor(x[: n_train + n_val, 0])
    yt = torch.tensor(y[: n_train + n_val, 0])
    yhat = ref_yhat(model, P, xt, K)
    train = ((yhat[:n_train] - yt[:n_train]) ** 2).mean()
    val = ((yhat[n_train:] - yt[n_train:]) ** 2).mean()
    train.backward()
    grads = {
        k: np.zeros_like(params[k][s]) if p.grad is None else p.grad.numpy() for k, p in P.items()
    }
    return train.item(), val.item(), grads, yhat.detach().numpy()


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("H", [1, 3])
def test_matches_torch_autograd(model, H):
    K, n_train, n_val, S = 12, 70, 30, 3
    params = make_params(model, S, H, K, seed=H)
    x, y = make_series(n_train + n_val + 5)
    fwd, lg = kernel_fns(model)
    train, val, grads = lg(params, x, y, n_train, n_val, K, np.ones(S, bool))
    yhat = fwd(params, x, K)
    assert yhat.shape == (S, x.shape[0], 1) and train.shape == val.shape == (S,)
    assert list(grads) == list(params)
    for s in range(S):
        r_train, r_val, r_grads, r_yhat = ref_loss_grad(model, params, s, x, y, n_train, n_val, K)
        np.testing.assert_allclose(train[s], r_train, rtol=1e-10, atol=0)
        np.testing.assert_allclose(val[s], r_val, rtol=1e-10, atol=0)
        np.testing.assert_allclose(yhat[s, : n_train + n_val, 0], r_yhat, rtol=1e-10, atol=1e-12)
        for name in params:
            assert grads[name].shape == params[name].shape
            np.testing.assert_allclose(grads[name][s], r_grads[name], rtol=1e-10, atol=1e-13,
                                       err_msg=f"{model} H={H} seed {s}: {name}")  # fmt: skip
            if name.startswith("unused"):
                assert not grads[name].any()


@pytest.mark.parametrize("model", ["mrnnf", "rnn2", "mlstmf"])
@pytest.mark.parametrize("n_train, n_val", [(150, 60), (40, 20)])  # the second: T < K
def test_matches_torch_autograd_k100(model, n_train, n_val):
    K, S = 100, 2
    params = make_params(model, S, 1, K, seed=7)
    x, y = make_series(n_train + n_val)
    train, val, grads = kernel_fns(model)[1](params, x, y, n_train, n_val, K)
    for s in range(S):
        r_train, r_val, r_grads, _ = ref_loss_grad(model, params, s, x, y, n_train, n_val, K)
        np.testing.assert_allclose([train[s], val[s]], [r_train, r_val], rtol=1e-10, atol=0)
        for name in params:
            np.testing.assert_allclose(grads[name][s], r_grads[name], rtol=1e-10, atol=1e-13,
                                       err_msg=f"{model} seed {s}: {name}")  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_val_loss_is_the_continued_pass(model):
    K, n_train, n_val, S = 10, 50, 25, 2
    params = make_params(model, S, 2, K, seed=3)
    x, y = make_series(n_train + n_val + 10)
    fwd, lg = kernel_fns(model)
    train, val, grads = lg(params, x, y, n_train, n_val, K)
    yhat = fwd(params, x, K)[:, :, 0]  # one pass over all steps, no reset at n_train
    err = (yhat - y[:, 0]) ** 2
    np.testing.assert_allclose(train, err[:, :n_train].mean(1), rtol=1e-12)
    np.testing.assert_allclose(val, err[:, n_train : n_train + n_val].mean(1), rtol=1e-12)
    # the validation steps do not touch the training loss or the gradients
    train0, val0, grads0 = lg(params, x, y, n_train, 0, K)
    assert np.array_equal(train0, train) and np.isnan(val0).all()
    for name in params:
        assert np.array_equal(grads0[name], grads[name]), name


def _assert_same_bits(a, b, what):
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), what


def _run_all(model, params, x, y, n_train, n_val, K, active=None):
    fwd, lg = kernel_fns(model)
    train, val, grads = lg(params, x, y, n_train, n_val, K, active)
    return fwd(params, x, K), train, val, grads


def _subset(params, seeds):
    return {k: np.ascontiguousarray(v[seeds]) for k, v in params.items()}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seeds_are_independent_bit_for_bit(model, dtype):
    # 37 seeds at H = 1 put a seed in a vector lane; alone it runs in the scalar tail.
    K, n_train, n_val = 16, 80, 30
    x, y = make_series(n_train + n_val)
    for S, H in ((37, 1), (5, 3)):
        params = make_params(model, S, H, K, dtype, seed=11)
        yhat, train, val, grads = _run_all(model, params, x, y, n_train, n_val, K)
        assert yhat.dtype == train.dtype == val.dtype == dtype
        assert all(g.dtype == dtype for g in grads.values())
        for s in (0, 2, S - 1):
            one = _run_all(model, _subset(params, [s]), x, y, n_train, n_val, K)
            _assert_same_bits(one[0][0], yhat[s], f"yhat seed {s}")
            _assert_same_bits(one[1][0], train[s], f"train loss seed {s}")
            _assert_same_bits(one[2][0], val[s], f"val loss seed {s}")
            for name in params:
                _assert_same_bits(one[3][name][0], grads[name][s], f"{name} seed {s}")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_seed_and_inactive_seeds_leave_the_others_alone(model, dtype):
    K, n_train, n_val, S = 12, 60, 20, 6
    x, y = make_series(n_train + n_val)
    params = make_params(model, S, 2, K, dtype, seed=5)
    yhat, train, val, grads = _run_all(model, params, x, y, n_train, n_val, K)
    # a NaN in one parameter of seed 1 (the hidden track's weights in every model)
    bad = {k: v.copy() for k, v in params.items()}
    bad["w_hh" if "w_hh" in bad else "w_i"][1] = np.nan
    b_yhat, b_train, b_val, b_grads = _run_all(model, bad, x, y, n_train, n_val, K)
    assert np.isnan(b_train[1]) and np.isnan(b_val[1])
    ok = [0, 2, 3, 4, 5]
    _assert_same_bits(b_yhat[ok], yhat[ok], "yhat")
    _assert_same_bits(b_train[ok], train[ok], "train")
    for name in params:
        _assert_same_bits(b_grads[name][ok], grads[name][ok], name)
    # inactive seeds: not computed, NaN losses, zero gradients; the active ones unchanged
    active = np.array([True, False, True, False, False, True])
    _, a_train, a_val, a_grads = _run_all(model, bad, x, y, n_train, n_val, K, active)
    assert np.isnan(a_train[~active]).all() and np.isnan(a_val[~active]).all()
    _assert_same_bits(a_train[active], train[active], "train")
    _assert_same_bits(a_val[active], val[active], "val")
    for name in params:
        assert not a_grads[name][~active].any(), name
        _assert_same_bits(a_grads[name][active], grads[name][active], name)
    none = _run_all(model, params, x, y, n_train, n_val, K, np.zeros(S, bool))
    assert np.isnan(none[1]).all() and not any(g.any() for g in none[3].values())


def test_parameter_names_follow_the_contract():
    for model in MODELS:
        for H, K in ((1, 100), (3, 7)):
            assert list(shapes(model, H, K).items()) == list(
                cells.param_shapes(model, H=H, K=K).items()
            )


@pytest.mark.parametrize("model", MODELS)
def test_matches_project_reference(model):
    """The project's oracle (reference.py) agrees too, from its own initialisation moved off 0."""
    K, n_train, n_val, H = 9, 45, 15, 2
    rng = np.random.default_rng(4)
    params = cells.init_params(model, [3, 4], H=H, K=K, dtype=np.float64)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    x, y = make_series(n_train + n_val)
    fwd, lg = kernel_fns(model)
    train, val, grads = lg(params, x, y, n_train, n_val, K)
    r_train, r_val, r_grads = reference.reference_loss_grad(model, params, x, y, n_train, n_val, K)
    np.testing.assert_allclose(train, r_train, rtol=1e-10)
    np.testing.assert_allclose(val, r_val, rtol=1e-10)
    for name in params:
        np.testing.assert_allclose(grads[name], r_grads[name], rtol=1e-10, atol=1e-13, err_msg=name)
    seed0 = {k: torch.tensor(v[0]) for k, v in params.items()}
    r_yhat = reference.reference_forward(model, seed0, torch.tensor(x), K).numpy()
    np.testing.assert_allclose(fwd(params, x, K)[0], r_yhat, rtol=1e-10, atol=1e-12)


@numba.njit
def _apply(f_id, z):
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = cf.tanh(z[i]) if f_id == 0 else cf.sigmoid(z[i])
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_and_sigmoid_are_accurate(dtype):
    rng = np.random.default_rng(0)
    mags = np.concatenate([np.logspace(-30, 2.5, 4000), rng.uniform(0, 4, 4000), [0.625]])
    z = np.concatenate([mags, -mags]).astype(dtype)
    exact_t = np.tanh(z.astype(np.float64))  # glibc's float64 tanh: within 1 ulp of float64
    exact_s = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    for f_id, exact in ((0, exact_t), (1, exact_s)):
        got = _apply(f_id, z)
        assert got.dtype == dtype
        ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
        err = np.abs(got - exact)
        # within 2.5 ulp, except where the exact value underflows (sigmoid of z < -87, float32)
        assert np.all((err <= 2.5 * ulp) | (err < np.finfo(dtype).tiny)), f_id
    special = np.array([np.nan, np.inf, -np.inf, 0.0, 1e30, -1e30], dtype=dtype)
    np.testing.assert_array_equal(_apply(0, special), [np.nan, 1, -1, 0, 1, -1])
    np.testing.assert_array_equal(_apply(1, special), [np.nan, 1, 0, 0.5, 1, 0])

"""The per-seed reference (reference.py) and the authors-style models (authors_style.py)."""

import numpy as np
import pytest
import torch
from scipy.special import gammaln
from torch import nn

from rnnmem.long_memory.authors_style import authors_epoch, authors_loss_grad
from rnnmem.long_memory.cells import MODELS, init_params, unused_params
from rnnmem.long_memory.reference import (
    reference_forward,
    reference_loss_grad,
    reference_run,
)


def _params(model, seeds, H, K, spread=0.3, key=0):
    """float64 initial parameters moved off their initial values (a != 0, ...)."""
    rng = np.random.default_rng([key, len(model), H])
    params = init_params(model, seeds, H=H, K=K, dtype=np.float64)
    return {n: v + spread * rng.standard_normal(v.shape) for n, v in params.items()}


def _seed(params, s=0):
    return {n: torch.tensor(v[s]) for n, v in params.items()}


def _series(T, key=1):
    rng = np.random.default_rng(key)
    return rng.random((T, 1)), rng.random((T, 1))


def test_rnn_matches_torch_rnn():
    H, T = 3, 40
    P = _seed(_params("rnn", [0], H, K=1))
    x = torch.tensor(_series(T)[0])
    rnn, out = nn.RNN(1, H).double(), nn.Linear(H, 1).double()
    with torch.no_grad():
        for mine, theirs in [("w_ih", rnn.weight_ih_l0), ("w_hh", rnn.weight_hh_l0),
                             ("b_ih", rnn.bias_ih_l0), ("b_hh", rnn.bias_hh_l0),
                             ("w_out", out.weight), ("b_out", out.bias)]:  # fmt: skip
            theirs.copy_(P[mine])
        expected = out(rnn(x[:, None, :])[0][:, 0, :])
    assert torch.allclose(reference_forward("rnn", P, x, K=1), expected, rtol=0, atol=1e-12)


def test_lstm_matches_torch_lstm_cell():
    H, T = 3, 40
    P = _seed(_params("lstm", [0], H, K=1))
    x = torch.tensor(_series(T)[0])
    cell, out = nn.LSTMCell(1, H).double(), nn.Linear(H, 1).double()
    with torch.no_grad():
        for mine, theirs in [("w_ih", cell.weight_ih), ("w_hh", cell.weight_hh),
                             ("b_ih", cell.bias_ih), ("b_hh", cell.bias_hh),
                             ("w_out", out.weight), ("b_out", out.bias)]:  # fmt: skip
            theirs.copy_(P[mine])
        h = c = torch.zeros(1, H, dtype=torch.float64)
        expected = []
        for t in range(T):
            h, c = cell(x[t : t + 1], (h, c))
            expected.append(out(h)[0])
    got = reference_forward("lstm", P, x, K=1)
    assert torch.allclose(got, torch.stack(expected), rtol=0, atol=1e-12)


def _logit_of(d):
    """a with 0.5 sigmoid(a) = d."""
    return np.log(2 * d / (1 - 2 * d))


def _filter_probe(model, d, K):
    """Parameters under which y_t = tanh(F_t) (mrnn) or tanh(tanh(F_t)) (mrnnf)."""
    P = {n: np.zeros(v.shape[1:]) for n, v in init_params(model, [0], K=K).items()}
    P["w_fm"][:] = 1.0
    P["w_mz"][:] = 1.0  # m_t = tanh(F_t), y_t reads m_t only
    if model == "mrnnf":
        P["a"][:] = _logit_of(d)
    else:
        P["b_d"][:] = _logit_of(d)  # w_dd = w_hd = w_md = w_xd = 0: d_t = d at every step
    return {n: torch.tensor(v) for n, v in P.items()}


def _filtered(model, d, x, K):
    y = reference_forward(model, _filter_probe(model, d, K), torch.tensor(x), K)[:, 0].numpy()
    return np.arctanh(np.arctanh(y)) if model == "mrnnf" else np.arctanh(y)


@pytest.mark.parametrize("model", ["mrnnf", "mrnn"])
def test_pi_test_vectors_through_the_input_filter(model):
    """long-memory.md §2.1: an impulse at t = 0 gives F_t = pi_{t+1}; a constant 1, partial sums."""
    K = 100
    impulse = np.zeros((K, 1))
    impulse[0] = 1.0
    pi = _filtered(model, 0.25, impulse, K)
    spec = [-0.25, -0.09375, -0.0546875, -0.0375976562, -0.0281982422]
    np.testing.assert_allclose(pi[:5], spec, rtol=0, atol=1e-10)
    np.testing.assert_allclose(pi[99], -6.4615e-4, rtol=1e-4)
    ones = np.ones((K, 1))
    np.testing.assert_allclose(_filtered(model, 0.25, ones, K)[K - 1], -0.74218428, atol=1e-8)
    np.testing.assert_allclose(_filtered(model, 0.25, ones, 25)[24], -0.63641320, atol=1e-8)
    np.testing.assert_allclose(_filtered(model, 0.4, impulse, K)[:3], [-0.4, -0.12, -0.064])
    np.testing.assert_allclose(_filtered(model, 0.4, ones, K)[K - 1], -0.89370123, atol=1e-8)
    # truncation: beyond K lags the window is full, F stays at the K-term sum
    assert _filtered(model, 0.25, np.ones((K + 20, 1)), K)[-1] == pytest.approx(-0.74218428)


@pytest.mark.parametrize("model", ["mlstmf", "mlstm"])
def test_cell_filter_is_the_inverse_fractional_difference(model):
    """With i = o = 1/2 and c~ = tanh(x_t), an impulse gives c_t = c_0 psi_t(d) for t <= K,
    psi_t = Gamma(t + d) / (Gamma(d) t!), the coefficients of (1 - B)^(-d)."""
    d, K, T = 0.3, 30, 30
    P = {n: np.zeros(v.shape[1:]) for n, v in init_params(model, [0], K=K).items()}
    P["w_c"][0, 0] = 1.0  # c~ = tanh(x_t), no dependence on h
    P["w_out"][:] = 1.0  # y_t = h_t = tanh(c_t) / 2
    P["a" if model == "mlstmf" else "b_f"][:] = _logit_of(d)
    x = np.zeros((T, 1))
    x[0] = 0.4
    y = reference_forward(model, {n: torch.tensor(v) for n, v in P.items()}, torch.tensor(x), K)
    cells = np.arctanh(2 * y[:, 0].numpy())
    t = np.arange(T)
    psi = np.exp(gammaln(t + d) - gammaln(d) - gammaln(t + 1))
    np.testing.assert_allclose(cells, 0.5 * np.tanh(0.4) * psi, rtol=1e-12)


def test_rnn2_with_pi_weights_is_mrnnf():
    K, d = 12, 0.35
    mrnnf = _params("mrnnf", [0], H=2, K=K)
    mrnnf["a"][:] = _logit_of(d)
    rnn2 = {n: v for n, v in mrnnf.items() if n != "a"}
    j = np.arange(1, K + 1)
    rnn2["w_filter"] = np.cumprod((j - 1 - d) / j)[None, :, None]
    x = torch.tensor(_series(50)[0])
    a, b = (reference_forward(m, _seed(P), x, K) for m, P in (("mrnnf", mrnnf), ("rnn2", rnn2)))
    assert torch.allclose(a, b, rtol=0, atol=1e-13)
    # and at initialisation RNN2 is the same function as MRNNF (long-memory.md §3.7)
    init = {m: _seed(init_params(m, [3], H=2, K=K, dtype=np.float64)) for m in ("mrnnf", "rnn2")}
    a, b = (reference_forward(m, P, x, K) for m, P in init.items())
    assert torch.allclose(a, b, rtol=0, atol=1e-13)


@pytest.mark.parametrize("model", MODELS)
def test_continuation_and_causality(model):
    K, T, n = 10, 150, 97  # T > 128: every MIST delay is reached
    P = _seed(_params(model, [0], H=2, K=K))
    x = torch.tensor(_series(T)[0])
    full, _ = reference_run(model, P, x, K)
    head, state = reference_run(model, P, x[:n], K)
    tail, _ = reference_run(model, P, x[n:], K, state=state)
    assert torch.allclose(torch.cat([head, tail]), full, rtol=0, atol=1e-13)
    other = x.clone()
    other[n:] = torch.rand(T - n, 1, dtype=torch.float64)
    assert torch.equal(reference_forward(model, P, other, K)[:n], full[:n])
    assert not torch.allclose(reference_forward(model, P, other, K)[n:], full[n:])


@pytest.mark.parametrize("model", MODELS)
def test_loss_grad_against_finite_differences(model):
    K, T, n_train, n_val, eps = 4, 10, 7, 3, 1e-6
    params = _params(model, [0, 1], H=2, K=K)
    x, y = _series(T)
    train, val, grads = reference_loss_grad(model, params, x, y, n_train, n_val, K)

    def loss(P, s, stop):
        with torch.no_grad():
            err = (reference_forward(model, _seed(P, s), x, K) - torch.tensor(y)) ** 2
        return err[:n_train].mean().item() if stop == "train" else err[n_train:].mean().item()

    for s in range(2):
        assert train[s] == pytest.approx(loss(params, s, "train"), rel=1e-14)
        assert val[s] == pytest.approx(loss(params, s, "val"), rel=1e-14)
        for name, value in params.items():
            fd = np.zeros(value.shape[1:])
            for idx in np.ndindex(fd.shape):
                plus = {**params, name: value.copy()}
                minus = {**params, name: value.copy()}
                plus[name][(s, *idx)] += eps
                minus[name][(s, *idx)] -= eps
                fd[idx] = (loss(plus, s, "train") - loss(minus, s, "train")) / (2 * eps)
            np.testing.assert_allclose(grads[name][s], fd, rtol=1e-6, atol=1e-9, err_msg=name)
    for name in unused_params(model):
        assert np.all(grads[name] == 0)
    assert np.any(grads[next(n for n in params if n not in unused_params(model))] != 0)


@pytest.mark.parametrize("model", MODELS)
def test_unused_parameters_do_not_matter(model):
    if not unused_params(model):
        return
    K = 5
    params = _params(model, [0], H=2, K=K)
    x = torch.tensor(_series(30)[0])
    moved = {n: v + (5.0 if n in unused_params(model) else 0.0) for n, v in params.items()}
    a, b = (reference_forward(model, _seed(P), x, K) for P in (params, moved))
    assert torch.equal(a, b)


@pytest.mark.parametrize("H", [1, 2])
@pytest.mark.parametrize("model", MODELS)
def test_authors_style_matches_reference(model, H):
    K, T, n_train = 10, 60, 50
    params = _params(model, [5], H=H, K=K)
    x, y = _series(T)
    train, _, grads = reference_loss_grad(model, params, x, y, n_train, T - n_train, K)
    one = {n: v[0] for n, v in params.items()}
    assert authors_epoch(model, one, x, y, n_train, K) == pytest.approx(train[0], rel=1e-12)
    loss, found = authors_loss_grad(model, one, x, y, n_train, K)
    assert loss == pytest.approx(train[0], rel=1e-12)
    for name in params:
        np.testing.assert_allclose(found[name], grads[name][0], rtol=1e-9, atol=1e-12)

"""reviews/models.py (seed-batched) against reviews/reference.py (per seed, torch modules).

Float64, a slice of the real data (8 reviews, short sequences), to 1e-10: log-probabilities,
per-seed losses and the gradients of every parameter, for the four models and both layouts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnmem.long_memory.reviews import data, models, params
from rnnmem.long_memory.reviews.reference import ReviewNet
from rnnmem.long_memory.reviews.train import make_batch

p, H, C = 16, 128, 5
SEEDS = [0, 1, 2]
TOL = 1e-10


def _slice(split, T: int, n: int = 8):
    """The first n columns at T steps; length indices folded into 0..T-1 (idx mod T), so that
    they vary (most reviews are longer than T) and max(idx) + 1 may fall short of T."""
    x = split.x[:T, :n]
    idx = split.idx[:n] % T
    return data.ReviewSplit(x=x, y=split.y[:n], idx=idx, review=split.review[:n])


def _batched(model, P0, x, idx, y, K):
    P = {k: v.clone().requires_grad_(True) for k, v in P0.items()}
    logp = models.forward(model, P, x, idx, K)
    L = models.nll(logp, y)
    L.sum().backward()
    return logp.detach(), L.detach(), {k: v.grad for k, v in P.items()}


def _compare(model, split, K):
    P0 = params.init_params(model, SEEDS, p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    b = make_batch(split, 0, len(split), torch.float64, "cpu")  # cut to max(idx) + 1 steps
    logp, L, grads = _batched(model, P0, b.x, b.idx, b.y, K)
    x_full = torch.as_tensor(split.x, dtype=torch.float64)  # the reference runs every step
    for s in range(len(SEEDS)):
        net = ReviewNet(model, p, H, C, K).double().load(P0, s)
        ref_logp = net(x_full, b.idx)
        ref_loss = F.nll_loss(ref_logp, b.y)
        ref_loss.backward()
        torch.testing.assert_close(logp[s], ref_logp.detach(), rtol=0, atol=TOL)
        assert abs(L[s].item() - ref_loss.item()) < TOL
        for (name, g), t in zip(grads.items(), net.ordered(), strict=True):
            if name in params.unused_params(model):
                assert g is None and t.grad is None  # never in the graph
                continue
            assert g is not None and t.grad is not None, name
            torch.testing.assert_close(g[s], t.grad, rtol=0, atol=TOL, msg=name)
            assert g[s].abs().max() > 0, name  # every used tensor receives a gradient


@pytest.mark.parametrize("layout", data.LAYOUTS)
@pytest.mark.parametrize("model", params.MODELS)
def test_batched_equals_per_seed(short_splits, model, layout):
    # K = 6 < T = 20: the filter windows are both partial (t < K) and full
    split = _slice(short_splits[layout]["train"], 20)
    assert len(set(split.idx.tolist())) > 1
    _compare(model, split, K=6)


@pytest.mark.parametrize("model", ["mrnnf", "mlstmf"])
def test_batched_equals_per_seed_at_k50(short_splits, model):
    split = _slice(short_splits["authors"]["val"], 60, n=4)
    _compare(model, split, K=50)


@pytest.mark.parametrize("model", params.MODELS)
def test_seed_does_not_depend_on_companions(short_splits, model):
    split = _slice(short_splits["transpose"]["train"], 16)
    b = make_batch(split, 0, len(split), torch.float32, "cpu")
    kw = dict(p=p, H=H, n_classes=C, dtype=torch.float32, device="cpu")
    many = _batched(model, params.init_params(model, [4, 9, 2], **kw), b.x, b.idx, b.y, 6)
    alone = _batched(model, params.init_params(model, [9], **kw), b.x, b.idx, b.y, 6)
    torch.testing.assert_close(many[0][1], alone[0][0], rtol=0, atol=0)
    torch.testing.assert_close(many[1][1], alone[1][0], rtol=0, atol=0)
    for name, g in many[2].items():
        if g is not None:
            torch.testing.assert_close(g[1], alone[2][name][0], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("model", params.MODELS)
def test_steps_after_the_last_length_index_do_not_matter(model):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, p, generator=gen, dtype=torch.float64)
    idx = torch.tensor([2, 6, 0])
    kw = dict(p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    P = params.init_params(model, [0, 1], **kw)
    full = models.forward(model, P, x, idx, 4)
    cut = models.forward(model, P, x[:7], idx, 4)
    assert torch.equal(full, cut)
    x2 = x.clone()
    x2[7:] = 99.0
    assert torch.equal(models.forward(model, P, x2, idx, 4), full)
    x2[6, 1] += 1.0  # the last real step of column 1 does matter
    changed = models.forward(model, P, x2, idx, 4)
    assert not torch.equal(changed[:, 1], full[:, 1]) and torch.equal(changed[:, 0], full[:, 0])


def test_filter_pi_matches_spec_vectors():
    a = torch.zeros(1, 1, dtype=torch.float64)  # d = 0.25
    pi = models.filter_pi(a, 100)[0, :, 0]
    expected = [-0.25, -0.09375, -0.0546875, -0.0375976562, -0.0281982422]
    np.testing.assert_allclose(pi[:5].numpy(), expected, atol=1e-10)
    assert abs(pi.sum().item() - (-0.74218428)) < 1e-8


def test_history_sum_paths_agree_and_gradcheck():
    gen = torch.Generator().manual_seed(2)
    S, B, k, h = 2, 3, 4, 5
    w = torch.randn(S, k, h, generator=gen, dtype=torch.float64, requires_grad=True)
    cells = [
        torch.randn(S, B, h, generator=gen, dtype=torch.float64, requires_grad=True)
        for _ in range(k)
    ]
    expected = sum(w[:, j, None, :] * cells[j] for j in range(k))
    for stacked in (False, True):
        out = models.history_sum(w, cells, stacked)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-14)
        assert torch.autograd.gradcheck(
            lambda w_, *c, st=stacked: models.history_sum(w_, list(c), st), (w, *cells)
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")
@pytest.mark.parametrize("model", params.MODELS)
def test_cuda_equals_cpu(short_splits, model):
    split = _slice(short_splits["authors"]["train"], 20)
    results = []
    for device in ("cpu", "cuda"):
        kw = dict(p=p, H=H, n_classes=C, dtype=torch.float64, device=device)
        b = make_batch(split, 0, len(split), torch.float64, device)
        out = _batched(model, params.init_params(model, SEEDS, **kw), b.x, b.idx, b.y, 6)
        results.append(out)
    (lc, Lc, gc), (lg, Lg, gg) = results
    torch.testing.assert_close(lg.cpu(), lc, rtol=0, atol=TOL)
    torch.testing.assert_close(Lg.cpu(), Lc, rtol=0, atol=TOL)
    for name, g in gc.items():
        if g is not None:
            torch.testing.assert_close(gg[name].cpu(), g, rtol=0, atol=TOL, msg=name)


@pytest.mark.parametrize("model", params.MODELS)
def test_seed_bits_alone_equal_in_jobs_of_any_size(model):
    # Float32 (where rounding shows), random inputs: every seed alone, then in jobs of 2, 3,
    # 5 and 8 seeds at varying places; losses and gradients bit for bit. A product with the
    # seed axis as a matrix dimension would put seeds in full and partial BLAS row blocks.
    gen = torch.Generator().manual_seed(3)
    T, B, h, K = 12, 8, 32, 6
    x = torch.randn(T, B, p, generator=gen)
    idx = torch.tensor([11, 3, 7, 0, 11, 5, 9, 2])
    y = torch.randint(0, C, (B,), generator=gen)
    kw = dict(p=p, H=h, n_classes=C, dtype=torch.float32, device="cpu")
    seeds = [5, 0, 9, 2, 7, 3, 8, 1]

    def run(job):
        P = {k: v.requires_grad_(True) for k, v in params.init_params(model, job, **kw).items()}
        L = models.losses(model, P, x, idx, y, K)
        L.sum().backward()
        return L.detach(), {k: v.grad for k, v in P.items() if v.grad is not None}

    alone = {s: run([s]) for s in seeds}
    for job in (seeds[6:], seeds[1:4], seeds[3:], seeds):
        L, grads = run(job)
        for i, s in enumerate(job):
            assert torch.equal(L[i], alone[s][0][0]), (job, s)
            assert grads.keys() == alone[s][1].keys()
            for name, g in grads.items():
                assert torch.equal(g[i], alone[s][1][name][0]), (job, s, name)

"""reviews/packed.py and recurrences.py (the CPU path: per seed, packed steps) against
reviews/reference.py (per seed, torch modules) and models.py (seed-batched).

Float64 to 1e-10 against the reference, as test_models.py checks the seed-batched engine;
float32 bit for bit for a seed alone and in jobs of any size.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnmem.long_memory.reviews import data, models, packed, params, recurrences
from rnnmem.long_memory.reviews.reference import ReviewNet
from rnnmem.long_memory.reviews.train import make_batch

p, H, C = 16, 128, 5
SEEDS = [0, 1, 2]
TOL = 1e-10


def _slice(split, T: int, n: int = 8):
    """The first n columns at T steps, length indices folded into 0..T-1 (as test_models)."""
    x = split.x[:T, :n]
    idx = split.idx[:n] % T
    return data.ReviewSplit(x=x, y=split.y[:n], idx=idx, review=split.review[:n])


def _run(engine, model, P0, x, idx, y, K):
    P = {k: v.clone().requires_grad_(True) for k, v in P0.items()}
    logp = engine.forward(model, P, x, idx, K)
    L = models.nll(logp, y)
    L.sum().backward()
    return logp.detach(), L.detach(), {k: v.grad for k, v in P.items()}


def _compare_to_reference(model, split, K):
    P0 = params.init_params(model, SEEDS, p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    b = make_batch(split, 0, len(split), torch.float64, "cpu")
    logp, L, grads = _run(packed, model, P0, b.x, b.idx, b.y, K)
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
            assert g[s].abs().max() > 0, name


@pytest.mark.parametrize("layout", data.LAYOUTS)
@pytest.mark.parametrize("model", params.MODELS)
def test_packed_equals_reference(short_splits, model, layout):
    split = _slice(short_splits[layout]["train"], 20)
    assert len(set(split.idx.tolist())) > 2  # columns drop out at several steps
    _compare_to_reference(model, split, K=6)


@pytest.mark.parametrize("model", ["mrnnf", "mlstmf"])
def test_packed_equals_reference_at_k50(short_splits, model):
    split = _slice(short_splits["authors"]["val"], 60, n=4)
    _compare_to_reference(model, split, K=50)


@pytest.mark.parametrize("model", params.MODELS)
def test_packed_equals_seed_batched(model):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(14, 6, p, generator=gen, dtype=torch.float64)
    idx = torch.tensor([13, 0, 5, 13, 9, 2])
    y = torch.randint(0, C, (6,), generator=gen)
    P0 = params.init_params(
        model, [3, 1], p=p, H=32, n_classes=C, dtype=torch.float64, device="cpu"
    )
    a, b = (_run(engine, model, P0, x, idx, y, 4) for engine in (packed, models))
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=1e-12)
    for name, g in a[2].items():
        assert (g is None) == (b[2][name] is None), name
        if g is not None:
            torch.testing.assert_close(g, b[2][name], rtol=0, atol=1e-12, msg=name)


@pytest.mark.parametrize("model", params.MODELS)
def test_packed_seed_bits_alone_equal_in_jobs_of_any_size(model):
    # as test_models.test_seed_bits_alone_equal_in_jobs_of_any_size, for the CPU path
    gen = torch.Generator().manual_seed(3)
    T, B, h, K = 12, 8, 32, 6
    x = torch.randn(T, B, p, generator=gen)
    idx = torch.tensor([11, 3, 7, 0, 11, 5, 9, 2])
    y = torch.randint(0, C, (B,), generator=gen)
    kw = dict(p=p, H=h, n_classes=C, dtype=torch.float32, device="cpu")
    seeds = [5, 0, 9, 2, 7, 3, 8, 1]

    def run(job):
        return _run(packed, model, params.init_params(model, job, **kw), x, idx, y, K)

    alone = {s: run([s]) for s in seeds}
    for job in (seeds[6:], seeds[1:4], seeds[3:], seeds):
        logp, L, grads = run(job)
        for i, s in enumerate(job):
            assert torch.equal(logp[i], alone[s][0][0]) and torch.equal(L[i], alone[s][1][0])
            for name, g in grads.items():
                assert (g is None) == (alone[s][2][name] is None), name
                if g is not None:
                    assert torch.equal(g[i], alone[s][2][name][0]), (job, s, name)


@pytest.mark.parametrize("model", params.MODELS)
def test_packed_steps_after_the_last_length_index_do_not_matter(model):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, p, generator=gen, dtype=torch.float64)
    idx = torch.tensor([2, 6, 0])
    P = params.init_params(model, [0, 1], p=p, H=H, n_classes=C, dtype=torch.float64, device="cpu")
    full = packed.forward(model, P, x, idx, 4)
    assert torch.equal(packed.forward(model, P, x[:7], idx, 4), full)
    x2 = x.clone()
    x2[3:, 0] = 99.0  # column 0 ends at step 2, column 2 at step 0
    x2[1:, 2] = -99.0
    assert torch.equal(packed.forward(model, P, x2, idx, 4), full)
    x2[6, 1] += 1.0  # the last real step of column 1 does matter
    changed = packed.forward(model, P, x2, idx, 4)
    assert not torch.equal(changed[:, 1], full[:, 1]) and torch.equal(changed[:, 0], full[:, 0])


def test_packing_layout():
    idx = torch.tensor([1, 3, 0, 3, 2])  # sorted by idx, descending, stable: columns 1 3 4 0 2
    pk = recurrences.packing(idx)
    assert pk.steps == 4 and pk.sizes == (5, 4, 3, 2)
    B = 5
    expected_rows = [1, 3, 4, 0, 2] + [B + c for c in (1, 3, 4, 0)] + [2 * B + c for c in (1, 3, 4)]
    assert pk.rows.tolist() == expected_rows + [3 * B + c for c in (1, 3)]
    # the row of column b at its step idx[b]
    assert [pk.rows[r].item() for r in pk.pick.tolist()] == [
        int(i) * B + b for b, i in enumerate(idx)
    ]
    # prev: the same column one step earlier
    for r, q in enumerate(pk.prev.tolist(), start=pk.sizes[0]):
        assert pk.rows[r].item() - pk.rows[q].item() == B
    assert sum(pk.heads) == sum(pk.sizes)
    seq = torch.arange(4 * B, dtype=torch.float64).reshape(4, B, 1)
    assert recurrences.pack(seq, pk)[:, 0].tolist() == [float(r) for r in pk.rows.tolist()]


@pytest.mark.parametrize("feed_back", [True, False])
def test_recurrences_gradcheck(feed_back):
    gen = torch.Generator().manual_seed(5)
    pk = recurrences.packing(torch.tensor([4, 1, 4, 0, 2]))
    N, i, h, K = sum(pk.sizes), 2, 3, 2

    def rand(*shape, scale=1.0):
        t = torch.randn(*shape, generator=gen, dtype=torch.float64) * scale
        return t.requires_grad_(True)

    def check(fn, gates):
        inputs = (rand(N, i), rand(gates * h, i), rand(gates * h), rand(gates * h, h))
        return torch.autograd.gradcheck(fn, inputs)

    assert check(lambda *a: recurrences.TanhRecurrence.apply(*a, pk), 1)
    assert check(lambda *a: recurrences.LSTMRecurrence.apply(*a, pk, feed_back), 4)
    lags = rand(K, h, scale=0.5)
    assert check(lambda *a: recurrences.MLSTMFRecurrence.apply(*a, lags, pk), 3)
    x, w_x, b, w = (rand(N, i), rand(3 * h, i), rand(3 * h), rand(3 * h, h))
    assert torch.autograd.gradcheck(  # the lag weights' gradient too
        lambda lags_: recurrences.MLSTMFRecurrence.apply(x, w_x, b, w, lags_, pk), (lags,)
    )

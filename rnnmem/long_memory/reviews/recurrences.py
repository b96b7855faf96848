"""The review models' recurrences on packed steps, for the CPU (long-memory.md §11.2, 12.3).

Packed steps: every layer is causal and the classifier reads column b at step idx[b] only, so
step t need run only the columns with idx >= t. With the columns sorted by idx, descending
(stable), these are the first n_t of them; the packed rows of a sequence [T', B, .] are step
0's n_0 rows, then step 1's n_1 rows, ... ([N, .], N = sum_b (idx[b] + 1); torch's
PackedSequence layout). On the reviews about a quarter of the column-steps drop out.

Each recurrence is an autograd Function with a hand-written backward pass, on one seed's
2-D tensors: the input part W_ih x_t + b of every step is one product over all packed rows,
written into the buffer where each step then adds W_hh h_{t-1} and activates in place; the
loop runs a few in-place ATen calls per step on preallocated buffers (their steps' views made
by one split call each); the weight gradients and the inputs' gradient are one product each
over all rows after the backward loop. One seed's tensors only: a seed's bits are its own.

Why this and not torch.nn.LSTM: the fed-back LSTMs (the reference's quirk, models.py) are
no torch module, and packing needs steps of shrinking width, which the fused CPU kernels
do not take. Per packed row-step this runs about as fast as torch's fused LSTM (both are
mostly the same products); packing saves the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

_tanh_grad = torch.ops.aten.tanh_backward.default  # grad * (1 - out^2), one kernel


@dataclass(frozen=True)
class Packing:
    """The packed layout of a batch with length indices idx [B].

    sizes[t] = n_t (active columns at step t); rows [N]: packed row -> row t * B + b of a
    [T', B, .] sequence flattened to [T' * B, .]; prev [N - n_0]: packed row of step t >= 1 ->
    the row of the same column at step t - 1; pick [B]: column b's row at its step idx[b] (in
    the columns' original order); heads: split sizes whose even pieces are the first n_{t+1}
    rows of each step t < T' - 1 (the columns still active at t + 1).
    """

    sizes: tuple[int, ...]
    heads: tuple[int, ...]
    rows: torch.Tensor
    prev: torch.Tensor
    pick: torch.Tensor

    @property
    def steps(self) -> int:
        return len(self.sizes)


def packing(idx: torch.Tensor) -> Packing:
    """The packed layout of idx [B] (T' = max(idx) + 1 steps)."""
    idx_np = idx.cpu().numpy().astype(np.int64)
    B, T = len(idx_np), int(idx_np.max()) + 1
    order = np.argsort(-idx_np, kind="stable")  # rank -> column
    rank = np.empty(B, dtype=np.int64)
    rank[order] = np.arange(B)
    sizes = [int(n) for n in (idx_np[None, :] >= np.arange(T)[:, None]).sum(axis=1)]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    rows = np.concatenate([t * B + order[:n] for t, n in enumerate(sizes)])
    prev = [starts[t - 1] + np.arange(n) for t, n in enumerate(sizes) if t]
    heads = [k for t in range(T - 1) for k in (sizes[t + 1], sizes[t] - sizes[t + 1])]

    def as_index(a):
        return torch.as_tensor(np.asarray(a, dtype=np.int64), device=idx.device)

    return Packing(
        sizes=tuple(sizes),
        heads=tuple(heads + [sizes[-1]]),
        rows=as_index(rows),
        prev=as_index(np.concatenate(prev) if prev else []),
        pick=as_index(starts[idx_np] + rank),
    )


def pack(seq: torch.Tensor, pk: Packing) -> torch.Tensor:
    """[T', B, i] (T' = pk.steps) -> packed [N, i]."""
    return seq.reshape(-1, seq.shape[-1]).index_select(0, pk.rows)


def _steps(pk: Packing, buf: torch.Tensor):
    """The steps' rows of a packed buffer [N, .] (or a column block of it), as views."""
    return buf.split(pk.sizes)


def _heads(pk: Packing, buf: torch.Tensor):
    """Step t's first n_{t+1} rows, t < T' - 1: where step t + 1 reads (or sends back)."""
    return buf.split(pk.heads)[0::2][: pk.steps - 1]


def _w_hh_grad(dz: torch.Tensor, h: torch.Tensor, pk: Packing) -> torch.Tensor:
    """sum_t dz_t^T h_{t-1} as one product over the packed rows of steps >= 1: [o, H]."""
    return dz[pk.sizes[0] :].t().mm(h.index_select(0, pk.prev))


def _blocks(pk: Packing, buf: torch.Tensor, H: int, n: int):
    """The steps' views of the n column blocks of width H of buf [N, n H]."""
    return [_steps(pk, buf[:, j * H : (j + 1) * H]) for j in range(n)]


class TanhRecurrence(torch.autograd.Function):
    """h_t = tanh(W_ih x_t + b + W_hh h_{t-1}), h_{-1} = 0, on packed rows: x [N, i],
    w_ih [H, i], b [H], w_hh [H, H] -> h [N, H]. The input part of every step is one product,
    into the buffer where each step then adds W_hh h_{t-1} and activates in place."""

    @staticmethod
    def forward(ctx, x, w_ih, b, w_hh, pk):
        h, wt = torch.addmm(b, x, w_ih.t()), w_hh.t()
        h_t, h_head = _steps(pk, h), _heads(pk, h)
        h_t[0].tanh_()
        for t in range(1, pk.steps):
            h_t[t].addmm_(h_head[t - 1], wt).tanh_()
        ctx.pk = pk
        ctx.save_for_backward(x, w_ih, w_hh, h)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        x, w_ih, w_hh, h = ctx.saved_tensors
        pk = ctx.pk
        dz = grad_h.clone(memory_format=torch.contiguous_format)  # becomes d z, step by step
        dz_t, dz_head, h_t = _steps(pk, dz), _heads(pk, dz), _steps(pk, h)
        one = h.new_ones(())
        for t in reversed(range(pk.steps)):
            if t + 1 < pk.steps:  # the next step's W_hh h_t
                dz_head[t].addmm_(dz_t[t + 1], w_hh)
            dz_t[t].mul_(torch.addcmul(one, h_t[t], h_t[t], value=-1.0))
        dx = dz.mm(w_ih) if ctx.needs_input_grad[0] else None
        return dx, dz.t().mm(x), dz.sum(0), _w_hh_grad(dz, h, pk), None


class LSTMRecurrence(torch.autograd.Function):
    """An LSTM layer on packed rows, gate blocks in the order i, f, o, g (the three sigmoid
    gates side by side: one call activates them).

        z_t = W_ih x_t + b + W_hh h_{t-1}
        c_t = s(f) c_{t-1} + s(i) tanh(g);  h'_t = s(o) tanh(c_t)

    x [N, i] (packed), w_ih [4H, i], b [4H] (b_ih + b_hh), w_hh [4H, H]. The input part of
    every step is one product, into the buffer where each step then adds W_hh h_{t-1} and
    activates in place. feed_back: h_t = a_t = tanh(h'_t), and the result is a [N, H] (the
    reference's quirk); else h_t = h'_t, and the result is h' [N, H] (the caller takes tanh
    where it needs it).
    """

    @staticmethod
    def forward(ctx, x, w_ih, b, w_hh, pk, feed_back):
        gates = torch.addmm(b, x, w_ih.t())  # [N, 4H]
        N, H = gates.shape[0], gates.shape[1] // 4
        c, tc, h = (gates.new_empty(N, H) for _ in range(3))
        wt = w_hh.t()
        a_t, s_t = _steps(pk, gates), _steps(pk, gates[:, : 3 * H])
        c_t, tc_t, h_t, c_head, h_head = (
            *(_steps(pk, b) for b in (c, tc, h)),
            *(_heads(pk, b) for b in (c, h)),
        )
        i_t, f_t, o_t, g_t = _blocks(pk, gates, H, 4)
        for t in range(pk.steps):
            if t:
                a_t[t].addmm_(h_head[t - 1], wt)
            s_t[t].sigmoid_()
            g_t[t].tanh_()
            torch.mul(i_t[t], g_t[t], out=c_t[t])
            if t:
                c_t[t].addcmul_(f_t[t], c_head[t - 1])
            torch.tanh(c_t[t], out=tc_t[t])
            torch.mul(o_t[t], tc_t[t], out=h_t[t])
            if feed_back:
                h_t[t].tanh_()
        ctx.pk, ctx.feed_back = pk, feed_back
        ctx.save_for_backward(x, w_ih, w_hh, gates, c, tc, h)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        x, w_ih, w_hh, gates, c, tc, h = ctx.saved_tensors
        pk, feed_back, H = ctx.pk, ctx.feed_back, h.shape[1]
        d_h = grad_h.clone(memory_format=torch.contiguous_format)  # + the next steps' W^T dz
        dz = torch.empty_like(gates)
        dh_t, dh_head, dz_t = _steps(pk, d_h), _heads(pk, d_h), _steps(pk, dz)
        dzs_t, s_t = _steps(pk, dz[:, : 3 * H]), _steps(pk, gates[:, : 3 * H])
        dzi_t, dzf_t, dzo_t, dzg_t = _blocks(pk, dz, H, 4)
        i_t, f_t, o_t, g_t = _blocks(pk, gates, H, 4)
        tc_t, h_t, c_head = _steps(pk, tc), _steps(pk, h), _heads(pk, c)
        one, dc_later = h.new_ones(()), None
        for t in reversed(range(pk.steps)):
            m = pk.sizes[t + 1] if t + 1 < pk.steps else 0
            if m:
                dh_head[t].addmm_(dz_t[t + 1], w_hh)
            d_raw = _tanh_grad(dh_t[t], h_t[t]) if feed_back else dh_t[t]  # d h'_t
            dc = _tanh_grad(d_raw * o_t[t], tc_t[t])
            if m:
                dc[:m].addcmul_(dc_later, f_t[t + 1])
            torch.mul(dc, g_t[t], out=dzi_t[t])  # d s(i) = dc g
            if t:
                torch.mul(dc, c_head[t - 1], out=dzf_t[t])  # d s(f) = dc c_{t-1}
            else:
                dzf_t[t].zero_()
            torch.mul(d_raw, tc_t[t], out=dzo_t[t])  # d s(o) = d h' tanh(c)
            torch.mul(dc, i_t[t], out=dzg_t[t])  # d tanh(g) = dc s(i)
            dzs_t[t].mul_(torch.addcmul(s_t[t], s_t[t], s_t[t], value=-1.0))  # s (1 - s)
            dzg_t[t].mul_(torch.addcmul(one, g_t[t], g_t[t], value=-1.0))  # 1 - tanh^2
            dc_later = dc
        dx = dz.mm(w_ih) if ctx.needs_input_grad[0] else None
        return dx, dz.t().mm(x), dz.sum(0), _w_hh_grad(dz, h, pk), None, None


class MLSTMFRecurrence(torch.autograd.Function):
    """The MLSTMF recurrence on packed rows, gate blocks in the order i, o, c~.

        z_t = W_x x_t + b + W h_{t-1}
        c_t = s(i) tanh(c~) + sum_{j=1}^{min(K, t)} w_j c_{t-j};  h_t = s(o) tanh(c_t)

    x [N, p] (packed), w_x [3H, p], b [3H], w [3H, H], lag weights [K, H] (row j - 1:
    w_j = -pi_j(d)). Returns h [N, H]. The input part W_x x_t + b of every step is one
    product. The cells are kept by step, [T', B, H] (sorted columns, zero where a column is
    inactive), so that the K cells before step t are one strided view cells[t-k:t, :n_t]:
    the history sum is one elementwise product and one sum, not K multiply-adds.
    """

    @staticmethod
    def forward(ctx, x, w_x, b, w, lags, pk):
        gates = torch.addmm(b, x, w_x.t())  # [N, 3H]
        N, H, K, B = gates.shape[0], gates.shape[1] // 3, lags.shape[0], pk.sizes[0]
        tc, h = gates.new_empty(N, H), gates.new_empty(N, H)
        cells = gates.new_zeros(pk.steps, B, H)
        by_lag = lags.flip(0)[:, None, :]  # [K, 1, H]; row K - j: w_j, lined up with cells
        wt = w.t()
        a_t, s_t = _steps(pk, gates), _steps(pk, gates[:, : 2 * H])
        i_t, o_t, g_t = _blocks(pk, gates, H, 3)
        tc_t, h_t, h_head = _steps(pk, tc), _steps(pk, h), _heads(pk, h)
        for t, n in enumerate(pk.sizes):
            k = min(K, t)
            if t:
                a_t[t].addmm_(h_head[t - 1], wt)
            s_t[t].sigmoid_()
            g_t[t].tanh_()
            c = torch.mul(i_t[t], g_t[t], out=cells[t, :n])
            if k:
                c.add_((cells[t - k : t, :n] * by_lag[K - k :]).sum(0))
            torch.tanh(c, out=tc_t[t])
            torch.mul(o_t[t], tc_t[t], out=h_t[t])
        ctx.pk = pk
        ctx.save_for_backward(x, w_x, w, lags, gates, cells, tc, h)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        x, w_x, w, lags, gates, cells, tc, h = ctx.saved_tensors
        pk, H, K = ctx.pk, h.shape[1], lags.shape[0]
        by_lag = lags.flip(0)[:, None, :]
        d_h = grad_h.clone(memory_format=torch.contiguous_format)
        dz = torch.empty_like(gates)
        d_cells = torch.zeros_like(cells)  # what the later steps' history sums send back
        d_by_lag = lags.new_zeros(K, H)
        dh_t, dh_head, dz_t = _steps(pk, d_h), _heads(pk, d_h), _steps(pk, dz)
        dzs_t, s_t = _steps(pk, dz[:, : 2 * H]), _steps(pk, gates[:, : 2 * H])
        dzi_t, dzo_t, dzg_t = _blocks(pk, dz, H, 3)
        i_t, o_t, g_t = _blocks(pk, gates, H, 3)
        tc_t, one = _steps(pk, tc), h.new_ones(())
        for t in reversed(range(pk.steps)):
            n, k = pk.sizes[t], min(K, t)
            if t + 1 < pk.steps:
                dh_head[t].addmm_(dz_t[t + 1], w)
            dc = d_cells[t, :n].add_(_tanh_grad(dh_t[t] * o_t[t], tc_t[t]))
            if k:
                d_cells[t - k : t, :n].addcmul_(dc[None], by_lag[K - k :])
                d_by_lag[K - k :].add_((cells[t - k : t, :n] * dc).sum(1))
            torch.mul(dc, g_t[t], out=dzi_t[t])  # d s(i) = dc tanh(c~)
            torch.mul(dh_t[t], tc_t[t], out=dzo_t[t])  # d s(o) = dh tanh(c)
            torch.mul(dc, i_t[t], out=dzg_t[t])  # d tanh(c~) = dc s(i)
            dzs_t[t].mul_(torch.addcmul(s_t[t], s_t[t], s_t[t], value=-1.0))  # s (1 - s)
            dzg_t[t].mul_(torch.addcmul(one, g_t[t], g_t[t], value=-1.0))  # 1 - tanh^2
        dx = dz.mm(w_x) if ctx.needs_input_grad[0] else None
        return dx, dz.t().mm(x), dz.sum(0), _w_hh_grad(dz, h, pk), d_by_lag.flip(0), None

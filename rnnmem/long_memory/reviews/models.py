"""Seed-batched forward pass of the four review models (long-memory.md §11.2, 12.3).

All S seeds run as one computation: parameters are stacked [S, ...] (params.py), states are
[S, B, H], and every product is a batched matrix product over the seed axis (torch.bmm /
baddbmm). The inputs x [T, B, p] (time-major, layout applied) are shared by all seeds. Plain
torch autograd gives the gradients; the objective sum_s L_s gives every seed its own gradient.
train.py runs this engine on CUDA; on the CPU it runs packed.py, the same equations seed by
seed (the equations below are the reference for both).

Layer-major: each layer runs over all T steps before the next one, so each layer's input part
is one product before its time loop. Whole sequences are kept seed-major, [S, T, B, .], so a
layer's input product is one baddbmm over [S, T*B, .] and step t is a view of it.

Equations (one seed; s the logistic sigmoid, [a, b] concatenation):

    LSTM step, input x_t, state (h, c), gates in PyTorch's order i, f, g, o:
        z = W_ih x_t + b_ih + W_hh h + b_hh;  c' = s(f) c + s(i) tanh(g);  h' = s(o) tanh(c')
        output a_t = tanh(h'); the next step's h is a_t ("fed back", the reference's quirk)
        or h' (nn.LSTM, the RNN model's second layer)

    rnn     h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh);  layer output tanh(h_t)
            (not fed back), then nn.LSTM(H, H) without feedback, output tanh(h2_t)
    lstm    LSTMCell(p, H) fed back, then LSTMCell(H, H) fed back
    mrnnf   d = 0.5 s(a) [p], pi_j = prod_{i<j} (i - d)/(i + 1), j = 1..K (filters.py)
            F_t = sum_{j=1}^{K} pi_j(d) * x_{t+1-j}   (x_{<0} = 0)                    [p]
            m_t = tanh(W_mm m_{t-1} + b_m + W_fm F_t);  h_t = tanh(W_hh h_{t-1} + b_h + W_xh x_t)
            y_t = tanh(W_hz h_t + b_z + W_mz m_t)                                      [H]
            then LSTMCell(H, H) fed back
    mlstmf  u_t = [x_t, h_{t-1}];  i = s(W_i u + b_i), o = s(W_o u + b_o), c~ = tanh(W_c u + b_c)
            d = 0.5 s(a) [H];  c_t = sum_{j=1}^{K} (-pi_j(d)) * c_{t-j} + i * c~   (c_{<0} = 0)
            h_t = o * tanh(c_t);  y_t = W_y h_t + b_y (no activation)
            then LSTMCell(H, H) fed back

    classifier: z = top-layer output at step idx[b] (the review's length index) [S, B, H],
                log p = log_softmax(fc_w z + fc_b) [S, B, C];  L_s = -mean_b log p[s, b, y_b]

Only steps 0..max(idx) influence the outputs (every layer is causal), so a caller may pass
x cut to max(idx) + 1 steps. The MLSTMF cell history is the list of the layer's past cells,
each [S, B, H]; the weighted sum over the last K of them (history_sum) keeps no copy of the
[S, B, K, H] history (long-memory.md §12.3) for the backward pass: on CUDA it stacks it per step
and rebuilds the stack in the backward pass, on the CPU it runs K fused multiply-adds. The MRNNF
input filter runs one product per seed (_InputFilter), so that no GEMM has the seed axis as
a matrix dimension: a seed's bits do not depend on the seeds beside it.
Everything here is deterministic on CUDA too: no scatter or index_put in the graph.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rnnmem.long_memory.reviews.params import MODELS


def _project(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """x [T, B, i] (shared by the seeds) or [S, T, B, i]; w [S, o, i]; b [S, o] -> [S, T, B, o].

    One batched product over the seeds for all steps, the bias fused (baddbmm).
    """
    S, o, i = w.shape
    T, B = x.shape[-3], x.shape[-2]
    flat = x.reshape(1, T * B, i).expand(S, T * B, i) if x.dim() == 3 else x.reshape(S, T * B, i)
    wt = w.transpose(1, 2)
    out = torch.bmm(flat, wt) if b is None else torch.baddbmm(b[:, None, :], flat, wt)
    return out.view(S, T, B, o)


def _lstm_layer(pre: torch.Tensor, w_hh: torch.Tensor, feed_back_tanh: bool) -> list:
    """pre [S, T, B, 4H] = W_ih x_t + b_ih + b_hh; returns the outputs tanh(h_t), each [S, B, H]."""
    S, T, B, G = pre.shape
    H = G // 4
    wt = w_hh.transpose(1, 2)
    h = pre.new_zeros(S, B, H)
    c = pre.new_zeros(S, B, H)
    outs = []
    for pre_t in pre.unbind(1):  # unbind, not pre[:, t]: one backward node, not T full-size ones
        z = torch.baddbmm(pre_t, h, wt)
        i, f, g, o = z.chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_raw = torch.sigmoid(o) * torch.tanh(c)
        out = torch.tanh(h_raw)
        h = out if feed_back_tanh else h_raw
        outs.append(out)
    return outs


def _lstm_pre(x, P, prefix: str) -> torch.Tensor:
    """W_ih x_t + (b_ih + b_hh) for all steps: [S, T, B, 4H]."""
    return _project(x, P[prefix + "w_ih"], P[prefix + "b_ih"] + P[prefix + "b_hh"])


def filter_pi(a: torch.Tensor, K: int) -> torch.Tensor:
    """pi_1..pi_K of d = 0.5 sigmoid(a): a [S, n] -> [S, K, n] (cumulative product of r_j)."""
    d = 0.5 * torch.sigmoid(a)
    j = torch.arange(1, K + 1, dtype=a.dtype, device=a.device)[None, :, None]
    return torch.cumprod((j - 1 - d[:, None, :]) / j, dim=1)


def _fresh(t: torch.Tensor) -> torch.Tensor:
    """A contiguous copy in a new (allocator-aligned) buffer, even where t is contiguous."""
    return t.clone(memory_format=torch.contiguous_format)


class _InputFilter(torch.autograd.Function):
    """F[s, n, c] = sum_k pi[s, k, c] * lags[c, k, n], one product per seed (n = t*B + b).

    Why one per seed: as a single product over all seeds (einsum), the seed axis is a matrix
    dimension of the GEMM, and BLAS blocks matrix rows (in fours on an AVX2 CPU with MKL):
    a seed's sums would be rounded by one kernel or another depending on S and its place in
    the job. Here every seed runs the same batched product, of shapes free of S, on fresh
    buffers (BLAS results may depend on alignment), forward and backward, so its bits are its
    own. lags [p, K, T*B] (the inputs, shared; no gradient), pi [S, K, p] -> [S, T*B, p].
    """

    @staticmethod
    def forward(ctx, lags, pi):
        ctx.save_for_backward(lags)
        out = lags.new_empty(pi.shape[0], lags.shape[2], pi.shape[2])
        for s in range(pi.shape[0]):
            row = _fresh(pi[s].t())[:, None, :]  # [p, 1, K]
            out[s] = torch.bmm(row, lags)[:, 0].t()
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the input filter gives no gradient for the inputs x")
        (lags,) = ctx.saved_tensors
        lags_t = lags.transpose(1, 2)  # [p, T*B, K]
        grad_pi = lags.new_empty(grad.shape[0], lags.shape[1], lags.shape[0])
        for s in range(grad.shape[0]):
            g = _fresh(grad[s].t())[:, None, :]  # [p, 1, T*B]
            grad_pi[s] = torch.bmm(g, lags_t)[:, 0].t()
        return None, grad_pi


def _input_filter(x: torch.Tensor, pi: torch.Tensor) -> torch.Tensor:
    """F_t = sum_j pi_j * x_{t+1-j}: x [T, B, p], pi [S, K, p] -> [S, T, B, p]."""
    T, B, p = x.shape
    K = pi.shape[1]
    padded = torch.cat([x.new_zeros(K - 1, B, p), x], dim=0)  # [T+K-1, B, p]
    window = padded.unfold(0, K, 1)  # [T, B, p, K]; window[t, ..., k] = x_{t+k-K+1}
    lags = window.permute(2, 3, 0, 1).reshape(p, K, T * B)  # one copy, shared by the seeds
    # lag j = K - k, so pi_j pairs with window[..., K - j]: flip pi along the lag axis.
    return _InputFilter.apply(lags, pi.flip(1)).view(-1, T, B, p)


def _mrnnf_layer(x, P, K: int) -> torch.Tensor:
    """The MRNNF layer over all steps: outputs y_t [S, T, B, H]."""
    T, B, _ = x.shape
    S, H, _ = P["w_mm"].shape
    pre_m = _project(_input_filter(x, filter_pi(P["a"], K)), P["w_fm"], P["b_m"])
    pre_h = _project(x, P["w_xh"], P["b_h"])
    w_mm, w_hh = P["w_mm"].transpose(1, 2), P["w_hh"].transpose(1, 2)
    m = x.new_zeros(S, B, H)
    h = x.new_zeros(S, B, H)
    ms, hs = [], []
    for pre_m_t, pre_h_t in zip(pre_m.unbind(1), pre_h.unbind(1), strict=True):
        m = torch.tanh(torch.baddbmm(pre_m_t, m, w_mm))
        h = torch.tanh(torch.baddbmm(pre_h_t, h, w_hh))
        ms.append(m)
        hs.append(h)
    hs, ms = torch.stack(hs, dim=1), torch.stack(ms, dim=1)  # [S, T, B, H]
    return torch.tanh(_project(hs, P["w_hz"], P["b_z"]) + _project(ms, P["w_mz"]))


class _HistorySum(torch.autograd.Function):
    """sum_j w[:, j-1] * cells[j-1] over the k given past cells, without keeping their stack.

    w [S, k, H] (the lag weights -pi_j(d)), cells: k tensors [S, B, H], cells[j-1] = c_{t-j}.
    Saved for the backward pass: w and the cells themselves (alive anyway), so a pass keeps
    O(T S B H) memory, not the O(T S B K H) of a saved [S, B, k, H] stack. Two evaluations of
    the same sums: `stacked` builds the [S, B, k, H] stack (a handful of kernels per step: for
    CUDA), otherwise k fused multiply-adds (no large temporaries: for the CPU, where fresh
    multi-megabyte buffers cost page faults).
    """

    @staticmethod
    def forward(ctx, stacked: bool, w, *cells):
        ctx.stacked = stacked
        ctx.save_for_backward(w, *cells)
        if stacked:
            return (torch.stack(cells, dim=2) * w[:, None]).sum(dim=2)
        out = cells[0] * w[:, :1]
        for j in range(1, len(cells)):
            out = torch.addcmul(out, w[:, j : j + 1], cells[j])
        return out

    @staticmethod
    def backward(ctx, grad):
        w, *cells = ctx.saved_tensors
        grad_w = None
        if ctx.stacked:
            if ctx.needs_input_grad[1]:
                grad_w = (torch.stack(cells, dim=2) * grad[:, :, None, :]).sum(dim=1)
            grad_cells = (grad[:, :, None, :] * w[:, None]).unbind(dim=2)
        else:
            if ctx.needs_input_grad[1]:
                grad_w = torch.stack([(grad * c).sum(dim=1) for c in cells], dim=1)
            grad_cells = [grad * w[:, j : j + 1] for j in range(len(cells))]
        return (None, grad_w, *grad_cells)


def history_sum(w: torch.Tensor, cells: list, stacked: bool) -> torch.Tensor:
    """sum_j w[:, j-1] * cells[j-1]: w [S, k, H], k cells [S, B, H] -> [S, B, H]."""
    return _HistorySum.apply(stacked, w, *cells)


def _mlstmf_layer(x, P, K: int) -> torch.Tensor:
    """The MLSTMF layer over all steps: outputs y_t [S, T, B, H]."""
    T, B, p = x.shape
    S, H, _ = P["w_c"].shape
    w = torch.cat([P["w_c"], P["w_i"], P["w_o"]], dim=1)  # [S, 3H, p+H]
    b = torch.cat([P["b_c"], P["b_i"], P["b_o"]], dim=1)  # [S, 3H]
    pre = _project(x, w[:, :, :p], b)  # [S, T, B, 3H]
    w_h = w[:, :, p:].transpose(1, 2)  # [S, H, 3H]
    weights = -filter_pi(P["a"], K)  # [S, K, H]: -pi_j(d), a d per hidden unit
    h = x.new_zeros(S, B, H)
    cells, hs = [], []
    for t, pre_t in enumerate(pre.unbind(1)):
        z = torch.baddbmm(pre_t, h, w_h)
        c_tilde, i, o = torch.tanh(z[..., :H]), torch.sigmoid(z[..., H : 2 * H]), z[..., 2 * H :]
        c = i * c_tilde
        k = min(K, t)  # c_{t-j} = 0 before the start
        if k:
            recent = cells[t - k : t][::-1]  # c_{t-1}, ..., c_{t-k}
            c = c + history_sum(weights[:, :k], recent, stacked=x.is_cuda)
        h = torch.sigmoid(o) * torch.tanh(c)
        cells.append(c)
        hs.append(h)
    return _project(torch.stack(hs, dim=1), P["w_y"], P["b_y"])


def _select(outs: list, idx: torch.Tensor) -> torch.Tensor:
    """The output at each column's length index: outs[t] [S, B, H], idx [B] -> [S, B, H]."""
    picked = torch.zeros_like(outs[0])
    for t, out in enumerate(outs):
        picked = torch.where((idx == t)[None, :, None], out, picked)
    return picked


def forward(model: str, params: dict, x: torch.Tensor, idx: torch.Tensor, K: int) -> torch.Tensor:
    """Log-probabilities [S, B, C] of inputs x [T, B, p] with length indices idx [B] (< T)."""
    P = params
    if model == "rnn":
        pre = _project(x, P["w_ih"], P["b_ih"] + P["b_hh"])  # [S, T, B, H]
        w_hh = P["w_hh"].transpose(1, 2)
        h = x.new_zeros(pre.shape[0], pre.shape[2], pre.shape[3])
        hs = []
        for pre_t in pre.unbind(1):
            h = torch.tanh(torch.baddbmm(pre_t, h, w_hh))
            hs.append(h)
        first = torch.tanh(torch.stack(hs, dim=1))  # not fed back
        top = _lstm_layer(_lstm_pre(first, P, "l2_"), P["l2_w_hh"], False)
    elif model == "lstm":
        first = _lstm_layer(_lstm_pre(x, P, ""), P["w_hh"], True)
        top = _lstm_layer(_lstm_pre(torch.stack(first, dim=1), P, "l2_"), P["l2_w_hh"], True)
    elif model == "mrnnf":
        top = _lstm_layer(_lstm_pre(_mrnnf_layer(x, P, K), P, "l2_"), P["l2_w_hh"], True)
    elif model == "mlstmf":
        top = _lstm_layer(_lstm_pre(_mlstmf_layer(x, P, K), P, "l2_"), P["l2_w_hh"], True)
    else:
        raise ValueError(f"unknown review model {model!r}; expected one of {MODELS}")
    z = _select(top, idx)
    logits = torch.baddbmm(P["fc_b"][:, None, :], z, P["fc_w"].transpose(1, 2))
    return torch.log_softmax(logits, dim=-1)


def nll(logp: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-seed mean negative log-likelihood: logp [S, B, C], y [B] -> [S]."""
    onehot = F.one_hot(y, logp.shape[-1]).to(logp.dtype)  # no gather: deterministic backward
    return -(logp * onehot).sum(-1).mean(-1)


def losses(model: str, params: dict, x, idx, y, K: int) -> torch.Tensor:
    """L_s for every seed [S]."""
    return nll(forward(model, params, x, idx, K), y)

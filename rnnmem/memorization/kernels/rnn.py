"""Elman RNN layer (torch.nn.RNN, tanh): one model's forward and backward through time.

Per model and layer, over B sequences at once (arrays (.., rows, B), B innermost):

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  h_0 = 0     W_ih (c, cin), W_hh (c, c)

Backward, dh_t = d_in_t + r_t with r_t = W_hh^T da_{t+1} carried from the next step:

    da_t = dh_t (1 - h_t^2)     (da is both the recurrent and the input side's gradient)

Arrays: inp (T + 1, cin, B), the layer's input at row t + 1; H (T + 1, c, B), row 0 the zero
state; D (T, c, B) da. Symbols as in the package docstring.
"""

from __future__ import annotations

import numba

from . import common as cm


@numba.njit(**cm.INLINE)
def forward(w_ih, w_hh, b_ih, b_hh, inp, H, Tb, bias):
    """Fill H[1..Tb]. bias: (c,) scratch for b_ih + b_hh."""
    c = H.shape[1]
    for r in range(c):
        bias[r] = b_ih[r] + b_hh[r]
    for t in range(1, Tb + 1):  # H[t] holds the pre-activation, then h_t in place
        cm.affine(H, t, 0, bias, 0, c, w_ih, inp, t, w_hh, H, t - 1)
        cm.activate(H, t, 0, 0, c, c)


@numba.njit(**cm.INLINE)
def backward(w_hh, H, d_in, D, carry, cut, cuts, t_lo, Tb):
    """Fill D[t_lo..Tb-1] from d_in (T, c, B), the gradient reaching h_t from outside the
    recurrence. carry: (1, c, B) scratch; cut: (B,) the step whose incoming state is cut from
    the graph (truncated BPTT; -1: none);
    cuts: (T,) whether any sequence is cut at step t."""
    c, B = carry.shape[1], carry.shape[2]
    one = H.dtype.type(1.0)
    zero = H.dtype.type(0.0)
    carry[:] = zero
    for t in range(Tb - 1, t_lo - 1, -1):
        for k in range(c):
            for b in range(B):
                h = H[t + 1, k, b]
                D[t, k, b] = (d_in[t, k, b] + carry[0, k, b]) * (one - h * h)
        if t > t_lo:
            carry[:] = zero
            cm.add_transposed(carry, 0, w_hh, D, t, 0, c)
            for b in range(B if cuts[t] else 0):
                if cut[b] == t:
                    for k in range(c):
                        carry[0, k, b] = zero

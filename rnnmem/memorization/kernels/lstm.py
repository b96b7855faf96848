"""LSTM layer (torch.nn.LSTM): one model's forward and backward through time.

Per model and layer, over B sequences at once (arrays (.., rows, B), B innermost), gate
blocks i, f, g, o of the 4c rows as in torch.nn:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 W_ih (4c, cin), W_hh (4c, c)
    i, f, o = sigmoid(a_t[i], a_t[f], a_t[o]),  g = tanh(a_t[g])
    c_t = f c_{t-1} + i g,   h_t = o tanh(c_t),   h_0 = c_0 = 0

Backward, dh_t = d_in_t + W_hh^T da_{t+1} and e_t = dc_{t+1} f_{t+1}, both carried from the
next step:

    dc = e_t + dh_t o (1 - tanh(c_t)^2)
    da[i] = dc g i (1 - i),  da[f] = dc c_{t-1} f (1 - f),  da[g] = dc i (1 - g^2),
    da[o] = dh_t tanh(c_t) o (1 - o)       (da is both the recurrent and the input side's)

Arrays: inp (T + 1, cin, B), the layer's input at row t + 1; H, C (T + 1, c, B), row 0 the
zero state; A (T, 4c, B) the gate activations i, f, g, o; E (T, c, B) tanh(c_t);
D (T, 4c, B) da. Symbols as in the package docstring.
"""

from __future__ import annotations

import numba

from . import common as cm


@numba.njit(**cm.INLINE)
def forward(w_ih, w_hh, b_ih, b_hh, inp, H, A, C, E, Tb, bias):
    """Fill H[1..Tb], C[1..Tb], A[..Tb-1], E[..Tb-1]. bias: (4c,) scratch for b_ih + b_hh."""
    c, B = H.shape[1], H.shape[2]
    for r in range(4 * c):
        bias[r] = b_ih[r] + b_hh[r]
    for t in range(Tb):  # A[t]: the pre-activations, then the activations in place
        cm.affine(A, t, 0, bias, 0, 4 * c, w_ih, inp, t + 1, w_hh, H, t)
        cm.activate(A, t, 0, 2 * c, 3 * c, 4 * c)  # sigmoid i, f, o; tanh g
        for k in range(c):
            for b in range(B):
                C[t + 1, k, b] = A[t, c + k, b] * C[t, k, b] + A[t, k, b] * A[t, 2 * c + k, b]
                E[t, k, b] = C[t + 1, k, b]
        cm.activate(E, t, 0, 0, c, c)
        for k in range(c):
            for b in range(B):
                H[t + 1, k, b] = A[t, 3 * c + k, b] * E[t, k, b]


@numba.njit(**cm.INLINE)
def backward(w_hh, A, C, E, d_in, D, carry, carry_c, cut, cuts, t_lo, Tb):
    """Fill D[t_lo..Tb-1] from d_in (T, c, B), the gradient reaching h_t from outside the
    recurrence. carry, carry_c: (1, c, B) scratch; cut: (B,) the step whose incoming state
    is cut from the graph (truncated BPTT; -1: none);
    cuts: (T,) whether any sequence is cut at step t."""
    c, B = carry.shape[1], carry.shape[2]
    one = A.dtype.type(1.0)
    zero = A.dtype.type(0.0)
    carry[:] = zero
    carry_c[:] = zero
    for t in range(Tb - 1, t_lo - 1, -1):
        for k in range(c):
            for b in range(B):
                i, f, g, o = A[t, k, b], A[t, c + k, b], A[t, 2 * c + k, b], A[t, 3 * c + k, b]
                tc = E[t, k, b]
                dh = d_in[t, k, b] + carry[0, k, b]
                dc = carry_c[0, k, b] + dh * (o * (one - tc * tc))
                D[t, k, b] = dc * (g * (i * (one - i)))
                D[t, c + k, b] = dc * (C[t, k, b] * (f * (one - f)))
                D[t, 2 * c + k, b] = dc * (i * (one - g * g))
                D[t, 3 * c + k, b] = dh * (tc * (o * (one - o)))
                carry_c[0, k, b] = dc * f
        if t > t_lo:
            carry[:] = zero
            cm.add_transposed(carry, 0, w_hh, D, t, 0, 4 * c)
            for b in range(B if cuts[t] else 0):
                if cut[b] == t:
                    for k in range(c):
                        carry[0, k, b] = zero
                        carry_c[0, k, b] = zero

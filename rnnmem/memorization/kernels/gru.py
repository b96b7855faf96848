"""GRU layer (torch.nn.GRU): one model's forward and backward through time.

Per model and layer, over B sequences at once (arrays (.., rows, B), B innermost), gate
blocks r, z, n of the 3c rows as in torch.nn (b_hn stays inside r * (W_hn h + b_hn)):

    r = sigmoid(W_ir x + b_ir + W_hr h_{t-1} + b_hr)            W_ih (3c, cin), W_hh (3c, c)
    z = sigmoid(W_iz x + b_iz + W_hz h_{t-1} + b_hz)
    m = W_hn h_{t-1} + b_hn,   n = tanh(W_in x + b_in + r m)
    h_t = n + z (h_{t-1} - n)  (= (1 - z) n + z h_{t-1}),   h_0 = 0

Backward, dh_t = d_in_t + W_hh^T da_{t+1} + dh_{t+1} z_{t+1} carried from the next step:

    dn = dh_t (1 - z) (1 - n^2)
    recurrent side  da[r] = dn m r (1 - r),  da[z] = dh_t (h_{t-1} - n) z (1 - z),  da[n] = dn r
    input side      the same r and z rows, and dn for the n rows

Arrays: inp (T + 1, cin, B), the layer's input at row t + 1; H (T + 1, c, B), row 0 the zero
state; A (T, 3c, B) r, z, n; E (T, c, B) m; D (T, 3c, B) and DI (T, 3c, B) the recurrent
and the input side's da. Symbols as in the package docstring.
"""

from __future__ import annotations

import numba

from . import common as cm


@numba.njit(**cm.INLINE)
def forward(w_ih, w_hh, b_ih, b_hh, inp, H, A, E, Tb, bias):
    """Fill H[1..Tb], A[..Tb-1], E[..Tb-1]. bias: (3c,) scratch: b_ih + b_hh for r, z, then b_in."""
    c, B = H.shape[1], H.shape[2]
    for r in range(2 * c):
        bias[r] = b_ih[r] + b_hh[r]
    for r in range(2 * c, 3 * c):
        bias[r] = b_ih[r]
    for t in range(Tb):
        cm.affine(A, t, 0, bias, 0, 2 * c, w_ih, inp, t + 1, w_hh, H, t)  # r, z
        cm.affine(A, t, 2 * c, bias, 2 * c, 3 * c, w_ih, inp, t + 1, w_hh, H, -1)  # n: input side
        cm.affine(E, t, 0, b_hh, 2 * c, 3 * c, w_hh, H, t, w_hh, H, -1)  # m = W_hn h + b_hn
        cm.activate(A, t, 0, 2 * c, 2 * c, 2 * c)  # sigmoid r, z
        for k in range(c):
            for b in range(B):
                A[t, 2 * c + k, b] = A[t, 2 * c + k, b] + A[t, k, b] * E[t, k, b]
        cm.activate(A, t, 2 * c, 2 * c, 3 * c, 3 * c)  # tanh n
        for k in range(c):
            for b in range(B):
                n = A[t, 2 * c + k, b]
                H[t + 1, k, b] = n + A[t, c + k, b] * (H[t, k, b] - n)


@numba.njit(**cm.INLINE)
def backward(w_hh, H, A, E, d_in, D, DI, carry, cut, cuts, t_lo, Tb):
    """Fill D and DI[t_lo..Tb-1] from d_in (T, c, B), the gradient reaching h_t from outside
    the recurrence. carry: (1, c, B) scratch; cut: (B,) the step whose incoming state is cut
    from the graph (truncated BPTT; -1: none);
    cuts: (T,) whether any sequence is cut at step t."""
    c, B = carry.shape[1], carry.shape[2]
    one = A.dtype.type(1.0)
    zero = A.dtype.type(0.0)
    carry[:] = zero
    for t in range(Tb - 1, t_lo - 1, -1):
        for k in range(c):
            for b in range(B):
                r, z, n = A[t, k, b], A[t, c + k, b], A[t, 2 * c + k, b]
                dh = d_in[t, k, b] + carry[0, k, b]
                dn = dh * ((one - z) * (one - n * n))
                d_r = dn * (E[t, k, b] * (r * (one - r)))
                d_z = dh * ((H[t, k, b] - n) * (z * (one - z)))
                D[t, k, b] = d_r
                D[t, c + k, b] = d_z
                D[t, 2 * c + k, b] = dn * r
                DI[t, k, b] = d_r
                DI[t, c + k, b] = d_z
                DI[t, 2 * c + k, b] = dn
                carry[0, k, b] = dh * z  # the direct path h_{t-1} -> h_t, before W_hh^T da
        if t > t_lo:
            cm.add_transposed(carry, 0, w_hh, D, t, 0, 3 * c)
            for b in range(B if cuts[t] else 0):
                if cut[b] == t:
                    for k in range(c):
                        carry[0, k, b] = zero

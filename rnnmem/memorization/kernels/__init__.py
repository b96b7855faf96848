"""Fused CPU kernels of the memorization engine: every model of a job, every mini-batch and
every step of an epoch in compiled loops (numba), with a hand-written backward pass.

They compute what the torch engine computes (rnnmem.core.ensemble, core/layer_major.py,
core/bptt.py with rnnmem.memorization.readout): the same cells and parameters, the summed
readout at each sequence's last step, the per-model L1 loss, truncated BPTT, plain SGD; in
float64 equal to it and to per-model torch.nn training to 1e-10 (tests/memorization/
test_kernels.py). The torch engine stays the CUDA path of GPU-tagged jobs.

    net = Net(cell, layers, units)
    theta = pack(net, params)          # (M, P) flat parameters, float32 or float64
    losses = train_epoch(net, theta, x, lengths, targets, lr, tbptt_k)   # theta updated
    loss, grads = loss_and_grads(net, theta, x[s], lengths[s], targets[s], tbptt_k)
    out = predict(net, theta, x, lengths)
    params = unpack(net, theta)

Symbols (as in rnnmem.core.ensemble):

    M  models of a job (the model axis)        S  mini-batches (SGD steps) of an epoch
    B  sequences of a mini-batch               T  steps after right padding (Tb: a batch's
    c  units per layer, l (L) layers              longest sequence)
    G  gate blocks: 1 RNN, 4 LSTM (i, f, g, o), 3 GRU (r, z, n); gc = G c
    P  parameters of one model (torch.nn's count: two biases per layer)

Layout: a model's parameters are one flat row of theta (interface.py); inside the kernels
every array of a step keeps the sequence axis B last, (rows, B), so that the innermost loops
are elementwise over one model's sequences (common.py says why that keeps a model's bits
independent of its companions).

numba's cache lives in a folder named by the hash of this package's source files
(rnnmem/core/numba_cache.py says why).
"""

from __future__ import annotations

import numba

from rnnmem.core.numba_cache import package_cache_dir

# Import the kernel modules with numba's cache folder set to this package's (each function
# finds its folder when decorated), then restore it for other packages. A plain import, so
# that the rules' code versions (rnnmem.core.codehash) see these modules.
_previous_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = package_cache_dir(__file__)
try:
    from . import interface as _interface
finally:
    numba.config.CACHE_DIR = _previous_cache_dir
CELLS = _interface.CELLS  # cell -> its module, gate blocks and code (common.py)
Net = _interface.Net
pack, unpack = _interface.pack, _interface.unpack
train_epoch, loss_and_grads, predict = (
    _interface.train_epoch,
    _interface.loss_and_grads,
    _interface.predict,
)

__all__ = ["CELLS", "Net", "pack", "unpack", "train_epoch", "loss_and_grads", "predict"]

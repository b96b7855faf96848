"""The work of a memorization training job, in floating-point operations: what its runtime
is proportional to (the cost planner's unit, recorded by every training job).

Counted are the products of each step at the padded length T that the engine and the
kernels compute (a multiply-add = 2): per layer j with input width m_j (1, then c), forward
W_ih x + W_hh h (G c (m_j + c)), backward W_hh^T da (G c c), the weight gradients
(G c (m_j + c)) and, above layer 0, W_ih^T da (G c m_j). Gates, cell updates and the
activations' transcendental functions are not counted: their cost is roughly proportional.
"""

from __future__ import annotations

from rnnmem.core.ensemble import GATES
from rnnmem.memorization.job import TrainJob, longest_sequence

WORK_UNIT = "flop"


def flops_per_run_epoch(job: TrainJob) -> int:
    """Floating-point operations of one run's epoch (its steps_per_epoch SGD steps)."""
    gc, c = GATES[job.cell] * job.units, job.units
    macs = 0
    for j in range(job.layers):
        m_j = 1 if j == 0 else c
        macs += gc * (m_j + c) + gc * c + gc * (m_j + c) + (gc * m_j if j else 0)
    steps = longest_sequence(job) * job.batch_size * job.steps_per_epoch
    return 2 * macs * steps


def train_work(job: TrainJob) -> float:
    """The whole job's work: runs x epochs x flops_per_run_epoch."""
    return float(len(job.models) * job.epochs * flops_per_run_epoch(job))


# ----------------------------------------------------------------------------- probe work
def forward_flops_per_step(job: TrainJob) -> int:
    """Floating-point operations of one model's forward step: W_ih x + W_hh h per layer."""
    gc, c = GATES[job.cell] * job.units, job.units
    return 2 * sum(gc * ((1 if j == 0 else c) + c) for j in range(job.layers))


def probe_work(job: TrainJob, capacity: dict) -> float:
    """Floating-point operations of a probe job (rnnmem/memorization/probe.py), for both its
    weight sets (initial, trained) and every model: the forward pass over the capacity
    stream (washout + train + test steps), the readouts of every delay on the stream's
    states (Gram N x N and N x K products on the training part, N x K on the test part;
    N = layers x units, K = max(2N, min_delays), the hidden-state and top-layer states) and
    the forward pass over the task-aligned sequences (padded to the longest).
    """
    n = job.units * job.layers
    delays = max(2 * n, capacity["min_delays"])
    stream = capacity["washout"] + capacity["train_steps"] + capacity["test_steps"]
    fit, score = capacity["train_steps"] * n * (n + delays), capacity["test_steps"] * n * delays
    readouts = 2 * 2 * (fit + score)
    task = capacity["task_sequences"] * longest_sequence(job)
    per_model = forward_flops_per_step(job) * (stream + task) + readouts
    return float(2 * len(job.models) * per_model)

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
# A probe's time is per-step overhead for small networks (each step runs every model at
# once) and products for large ones: its work has both, (probe_steps, probe_work).
PROBE_UNIT = "step+flop"
TASK_CHUNK = 256  # task-aligned sequences per forward pass (probe.window_states uses it)


def flops_per_run_epoch(job: TrainJob) -> int:
    """Floating-point operations of one run's epoch (its steps_per_epoch SGD steps)."""
    gc, c = GATES[job.cell] * job.units, job.units
    macs = 0
    for j in range(job.layers):
        m_j = 1 if j == 0 else c
        macs += gc * (m_j + c) + gc * c + gc * (m_j + c) + (gc * m_j if j else 0)
    steps = longest_sequence(job) * job.batch_size * job.steps_per_epoch
    return 2 * macs * steps


def train_family(cell: str) -> str:
    """The cost family of a training job: per flop, the cells' gates and activations differ."""
    return f"train-memorization:{cell}"


def train_work(job: TrainJob) -> float:
    """The whole job's work: runs x epochs x flops_per_run_epoch."""
    return float(len(job.models) * job.epochs * flops_per_run_epoch(job))


# ----------------------------------------------------------------------------- probe work
def forward_flops_per_step(job: TrainJob) -> int:
    """Floating-point operations of one model's forward step: W_ih x + W_hh h per layer."""
    gc, c = GATES[job.cell] * job.units, job.units
    return 2 * sum(gc * ((1 if j == 0 else c) + c) for j in range(job.layers))


def probe_family(cell: str) -> str:
    """The cost family of a probe job: the cells' engine steps differ in cost."""
    return f"probe-memorization:{cell}"


def probe_steps(job: TrainJob, capacity: dict) -> float:
    """Time steps a probe job runs, all models at once: both weight sets x (the capacity
    stream + the task-aligned sequences' chunks x the job's longest sequence)."""
    stream = capacity["washout"] + capacity["train_steps"] + capacity["test_steps"]
    chunks = -(-capacity["task_sequences"] // TASK_CHUNK)
    return float(2 * (stream + chunks * longest_sequence(job)))


def probe_work(job: TrainJob, capacity: dict) -> float:
    """Floating-point operations of a probe job (rnnmem/memorization/probe.py), for both its
    weight sets (initial, trained) and every model: the forward pass over the capacity
    stream (washout + train + test steps) and over the task-aligned sequences (padded to the
    job's longest), and the readouts of every delay on each state set of dimension d (all
    layers' h: N = layers x units; the top layer's: units; the LSTM's h and c: 2N): Gram
    d x d and d x K products on the training part, d x K on the test part, with
    K = max(2N, min_delays) delays.
    """
    n = job.units * job.layers
    delays = max(2 * n, capacity["min_delays"])
    stream = capacity["washout"] + capacity["train_steps"] + capacity["test_steps"]
    task = capacity["task_sequences"] * longest_sequence(job)
    readouts = 0
    for d in (n, job.units, *((2 * n,) if job.cell == "lstm" else ())):
        fit = capacity["train_steps"] * d * (d + delays)
        readouts += 2 * (fit + capacity["test_steps"] * d * delays)
    per_model = forward_flops_per_step(job) * (stream + task) + readouts
    return float(2 * len(job.models) * per_model)

"""The random memorization task (memorization.md §2) and its data draws.

A network reads x_1..x_q, i.i.d. Uniform[0, 1], and must output x_{q+1-p}, the p-th
element from the end (p = 1 is the last). Every draw here is part of the seed contract
(memorization.md §3): the order of draws must not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnmem.core.seeds import mt19937, seed_sequence

if TYPE_CHECKING:
    from rnnmem.memorization.capacity import CapacitySettings

# The study's settings that define the task's sequence lengths (config keys).
TASK_KEYS = ("min_length", "window", "fixed_length", "long_positions")


@dataclass(frozen=True)
class TaskSpec:
    """Sequence lengths of the two task variants (memorization.md §2).

    variable (Def. 1): q ~ Uniform{L_p .. L_p + window - 1} with L_p = max(min_length, p)
    (long_positions 'shift', a choice, memorization.md: Def. 1 exactly for p <= min_length), or
    L_p = p for every p (long_positions 'offset': q ~ p - 1 + Uniform{1..window}).
    fixed (Def. 2): q = fixed_length; positions p > fixed_length are impossible.
    """

    task: str
    min_length: int
    window: int
    fixed_length: int
    long_positions: str

    @classmethod
    def of(cls, task: str, settings: dict) -> TaskSpec:
        """The task variant `task` with the study's length settings (TASK_KEYS of `settings`)."""
        return cls(task, *(settings[k] for k in TASK_KEYS))

    def length_bounds(self, position: int) -> tuple[int, int]:
        """Inclusive (lowest, highest) sequence length for target position p."""
        if self.task == "fixed":
            if position > self.fixed_length:
                raise ValueError(
                    f"position p={position} is impossible on the fixed-length task "
                    f"(q = fixed_length = {self.fixed_length})"
                )
            return self.fixed_length, self.fixed_length
        if self.task != "variable":
            raise ValueError(f"unknown task {self.task!r}; expected 'variable' or 'fixed'")
        if self.long_positions == "offset":
            return position, position + self.window - 1
        low = max(self.min_length, position)
        return low, low + self.window - 1

    def position_possible(self, position: int) -> bool:
        return self.task == "variable" or position <= self.fixed_length

    def sample(self, rng: np.random.Generator, position: int, shape: tuple[int, ...]):
        """Draw sequences: x (*shape, q_max) float32, lengths (*shape,), targets (*shape,).

        Draw order (lengths, then values) is part of the seed contract: do not change it.
        """
        low, high = self.length_bounds(position)
        lengths = rng.integers(low, high + 1, size=shape)
        x = rng.random((*shape, high)).astype(np.float32)
        rows = x.reshape(-1, high)
        targets = rows[np.arange(len(rows)), (lengths - position).ravel()].reshape(shape)
        return x, lengths, targets


def pad_time(x: np.ndarray, t_max: int) -> np.ndarray:
    """Right-pad the last axis with zeros to t_max (padding is never read)."""
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, t_max - x.shape[-1])])


def eval_set(task: TaskSpec, position: int, n: int, eval_seed: int):
    """The fixed evaluation set of one (task, p), shared by all runs (memorization.md §3)."""
    rng = mt19937(seed_sequence("memorization-eval", eval_seed, task.task, position))
    return task.sample(rng, position, (n,))


# ---------------------------------------------------------- inputs of the capacity probes
def capacity_stream(settings: CapacitySettings) -> np.ndarray:
    """The input stream u(t), i.i.d. Uniform[0, 1], shared by every probed network."""
    n = settings.washout + settings.train_steps + settings.test_steps
    return mt19937(seed_sequence("memorization-mc-stream", settings.stream_seed)).random(n)


def task_sequences(task: TaskSpec, settings: CapacitySettings, positions: list[int]):
    """Sequences of the task-aligned capacity (memorization.md §9.2 step 6), one input set for
    all p.

    One set of S input rows x (S, q_max) serves every position; positions with the same
    length window share one draw of lengths q ~ Uniform{low..high} (S,). Within a window,
    (x, q) follow the task's law exactly; windows are correlated with each other through x,
    which lets one forward pass serve all of them. Returns x and a list of
    (lengths (S,), positions, targets (S, P)) per window, targets[:, k] = x_{q+1-p_k}.
    """
    groups: dict[tuple[int, int], list[int]] = {}
    for p in positions:
        groups.setdefault(task.length_bounds(p), []).append(p)
    rng = mt19937(seed_sequence("memorization-mc-task", settings.stream_seed, task.task))
    q_max = max(high for _, high in groups)
    x = rng.random((settings.task_sequences, q_max)).astype(np.float32)
    windows = []
    for (low, high), group in sorted(groups.items()):
        lengths = rng.integers(low, high + 1, size=settings.task_sequences)
        targets = np.stack([x[np.arange(len(x)), lengths - p] for p in group], axis=1)
        windows.append((lengths, group, targets))
    return x, windows

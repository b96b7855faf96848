"""Seeds: every run's random streams derive from a readable key via numpy SeedSequence.

A key is a tuple of strings and integers that names the run, for example
("memorization", "fig6", "rnn", "variable", 1, 5, 3, 0). Hashing the key (not the run's
position in a job) makes a run's numbers independent of which other runs share its job.
"""

from __future__ import annotations

import hashlib

import numpy as np


def key_entropy(*key) -> list[int]:
    """Hash a key to four 32-bit integers (stable across processes and platforms)."""
    text = "\x1f".join(str(part) for part in key)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def seed_sequence(*key) -> np.random.SeedSequence:
    """The SeedSequence of a run named by `key`."""
    return np.random.SeedSequence(key_entropy(*key))


def mt19937(seq: np.random.SeedSequence) -> np.random.Generator:
    """A numpy Generator on a Mersenne Twister stream (the generator the papers used)."""
    return np.random.Generator(np.random.MT19937(seq))


def torch_seed(seq: np.random.SeedSequence) -> int:
    """An integer to seed a torch CPU Generator (also MT19937), drawn from `seq`."""
    return int(seq.generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))

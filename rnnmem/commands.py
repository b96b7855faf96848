"""The command table of `python -m rnnmem`: each command's module, function and one line.

Kept apart from `__main__` (which sets thread variables when it loads) so that the workflow
can read it while parsing: every rule's code version is the import closure of the module its
command runs (`rnnmem.core.codehash`).
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    target: str  # "module:function"; the function takes argv and returns an exit status
    summary: str  # one line for `python -m rnnmem --help`

    @property
    def module(self) -> str:
        return self.target.split(":")[0]


COMMANDS: dict[str, Command] = {
    # memorization (docs/studies/memorization.md)
    "train-memorization": Command(
        "rnnmem.memorization.train:main", "train one grid cell's networks, all seeds"
    ),
    "probe-memorization": Command(
        "rnnmem.memorization.probe:main", "memory capacity of one cell's trained networks"
    ),
    "esn-capacity": Command("rnnmem.memorization.esn:main", "echo state network baseline"),
    "aggregate-memorization": Command(
        "rnnmem.memorization.aggregate:main", "per-seed files -> memorization tables"
    ),
    "figures-memorization": Command(
        "rnnmem.memorization.figures:main", "memorization figures (Figs. 4-9, capacity)"
    ),
    "claims-memorization": Command(
        "rnnmem.memorization.claims:main", "check the memorization paper's claims"
    ),
    # forgetting (docs/studies/forgetting.md)
    "simulate-forgetting": Command(
        "rnnmem.forgetting.simulate:main", "run one cell's untrained layers, all runs"
    ),
    "aggregate-forgetting": Command(
        "rnnmem.forgetting.aggregate:main", "per-run files -> forgetting tables"
    ),
    "figures-forgetting": Command(
        "rnnmem.forgetting.figures:main", "forgetting heat maps and decay curves"
    ),
    "claims-forgetting": Command(
        "rnnmem.forgetting.claims:main", "check the forgetting study's claims"
    ),
    # long memory (docs/studies/long-memory.md)
    "fetch-long-memory": Command(
        "rnnmem.long_memory.fetch:fetch_main", "fetch one data file, checked by sha256"
    ),
    "generate-long-memory": Command(
        "rnnmem.long_memory.generate:generate_main", "generate Experiment 2's RNN series"
    ),
    "train-long-memory": Command(
        "rnnmem.long_memory.jobs:main", "train one long-memory configuration, all seeds"
    ),
    "aggregate-long-memory": Command(
        "rnnmem.long_memory.aggregate:main", "per-seed files -> long-memory tables"
    ),
    "figures-long-memory": Command(
        "rnnmem.long_memory.figures:main", "long-memory box plots, curves, K sweep"
    ),
    "claims-long-memory": Command(
        "rnnmem.long_memory.claims:main", "check the long-memory paper's claims"
    ),
    "embed-reviews": Command(
        "rnnmem.long_memory.reviews.jobs:embed_main", "review corpus and word2vec embeddings"
    ),
    "train-reviews": Command(
        "rnnmem.long_memory.reviews.jobs:train_main", "train one review model, all seeds"
    ),
    "aggregate-reviews": Command(
        "rnnmem.long_memory.reviews.aggregate:main", "per-seed files -> Tables 5 and 6"
    ),
    "figures-reviews": Command(
        "rnnmem.long_memory.reviews.figures:main", "review test accuracy figure"
    ),
    "compare-long-memory": Command(
        "rnnmem.long_memory.compare:main", "published beside reproduced: Tables 2, 5, 6, Exp. 2"
    ),
    "compare-forgetting": Command(
        "rnnmem.forgetting.compare:main", "published beside reproduced: the blog's tables"
    ),
    "compare-memorization": Command(
        "rnnmem.memorization.compare:main", "published beside reproduced: Fig. 6, the text"
    ),
    # every study
    "claims-summary": Command("rnnmem.core.claims:summary_main", "every study's claims, one table"),
    "reproduction-report": Command(
        "rnnmem.core.reproduction:main", "published beside reproduced, every study, one page"
    ),
    "config-docs": Command("rnnmem.config_docs:main", "write or check config/README.md"),
    "bench": Command("rnnmem.bench:main", "benchmarks: memorization, long-memory, reviews"),
    "plan": Command("rnnmem.planner:main", "jobs, core-hours and wall time of a tier, estimated"),
}

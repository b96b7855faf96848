"""Command-line entry points: `python -m rnnmem <command> [options]`.

Each Snakemake rule calls exactly one command. Commands live in the study modules; this
table maps a command name to "module:function", where the function takes argv.
"""

from __future__ import annotations

import importlib
import os
import sys

# One thread per job for every numerical library, set before numpy or torch load: fixed
# thread counts keep reruns byte-identical, and jobs run in parallel instead.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = os.environ.get("RNNMEM_THREADS", "1")

COMMANDS = {
    # memorization (spec/memory-distance.md)
    "train-memorization": "rnnmem.memorization.train:main",
    "probe-memorization": "rnnmem.memorization.probe:main",
    "esn-capacity": "rnnmem.memorization.esn:main",
    "aggregate-memorization": "rnnmem.memorization.aggregate:main",
    "figures-memorization": "rnnmem.memorization.figures:main",
    "claims-memorization": "rnnmem.memorization.claims:main",
    # forgetting (spec/forgetting-time.md)
    "simulate-forgetting": "rnnmem.forgetting.simulate:main",
    "aggregate-forgetting": "rnnmem.forgetting.aggregate:main",
    "figures-forgetting": "rnnmem.forgetting.figures:main",
    "claims-forgetting": "rnnmem.forgetting.claims:main",
    # long memory (spec/long-memory.md)
    "fetch-long-memory": "rnnmem.long_memory.fetch:fetch_main",
    "generate-long-memory": "rnnmem.long_memory.generate:generate_main",
    "train-long-memory": "rnnmem.long_memory.jobs:main",
    "aggregate-long-memory": "rnnmem.long_memory.aggregate:main",
    "figures-long-memory": "rnnmem.long_memory.figures:main",
    "claims-long-memory": "rnnmem.long_memory.claims:main",
    "embed-reviews": "rnnmem.long_memory.reviews.jobs:embed_main",
    "train-reviews": "rnnmem.long_memory.reviews.jobs:train_main",
    "aggregate-reviews": "rnnmem.long_memory.reviews.aggregate:main",
    "figures-reviews": "rnnmem.long_memory.reviews.figures:main",
    # every study
    "claims-summary": "rnnmem.core.claims:summary_main",
    "config-docs": "rnnmem.config_docs:main",
    "bench": "rnnmem.bench:main",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\ncommands:\n  " + "\n  ".join(sorted(COMMANDS)))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(
            f"rnnmem: unknown command {name!r}; known: {', '.join(sorted(COMMANDS))}",
            file=sys.stderr,
        )
        return 2
    module, func = COMMANDS[name].split(":")
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

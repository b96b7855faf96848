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
    "train-memorization": "rnnmem.memorization:train_main",
    "probe-memorization": "rnnmem.memorization:probe_main",
    "esn-capacity": "rnnmem.memorization:esn_main",
    "aggregate-memorization": "rnnmem.memorization:aggregate_main",
    "figures-memorization": "rnnmem.memorization_figures:figures_main",
    "claims-memorization": "rnnmem.memorization_claims:claims_main",
    "claims-summary": "rnnmem.core.claims:summary_main",
    "bench": "rnnmem.bench:main",
    "simulate-forgetting": "rnnmem.forgetting:simulate_main",
    "aggregate-forgetting": "rnnmem.forgetting_report:aggregate_main",
    "figures-forgetting": "rnnmem.forgetting_report:figures_main",
    "claims-forgetting": "rnnmem.forgetting_report:claims_main",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\ncommands:\n  " + "\n  ".join(sorted(COMMANDS)))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"rnnmem: unknown command {name!r}; known: {', '.join(sorted(COMMANDS))}", file=sys.stderr)
        return 2
    module, func = COMMANDS[name].split(":")
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

"""rnnmem: reproduce three studies on the memory of recurrent networks.

usage: python -m rnnmem <command> [options]      (python -m rnnmem <command> --help)

Each Snakemake rule calls exactly one command; the table is rnnmem/commands.py.
"""

from __future__ import annotations

import importlib
import os
import sys

# One thread per job for every numerical library, set before numpy or torch load: fixed
# thread counts keep reruns byte-identical, and jobs run in parallel instead.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = os.environ.get("RNNMEM_THREADS", "1")

from rnnmem.commands import COMMANDS  # noqa: E402


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {cmd.summary}" for name, cmd in COMMANDS.items()]
    return __doc__.strip() + "\n\ncommands:\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage(), file=sys.stderr)
        print("\nrnnmem: no command given", file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(
            f"rnnmem: unknown command {name!r}; known: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    module, func = COMMANDS[name].target.split(":")
    sys.argv[0] = f"python -m rnnmem {name}"  # argparse's prog: usage lines name the command
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

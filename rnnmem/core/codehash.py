"""Code versions by construction: a rule's code is the import closure of its command.

    command_code("train-memorization")
        -> module of the command (rnnmem/commands.py)
        -> import_closure: rnnmem/__main__.py, that module, and every rnnmem module they
           import, at any depth and at any place in a file (a function's import counts:
           it runs when the function does; an `if TYPE_CHECKING:` import never runs),
           with each package's __init__.py on the way
        -> sha256 over (relative path, bytes) of those files, sorted

Each rule passes command_code(<its command>) as a param, so an edit to a module reruns
exactly the rules whose commands import it, and no hand-kept list can drift. The closure is
read from the source (ast), never by importing: the workflow computes it while parsing.
Imports outside rnnmem (numpy, torch, ...) are the environment's business (pinned versions).
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from rnnmem.commands import COMMANDS

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../rnnmem
PACKAGE = PACKAGE_ROOT.name


def module_file(module: str) -> Path | None:
    """The source file of rnnmem module `module` ("rnnmem.core.io"), or None if it is not one."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, name: str | None = None) -> set[str]:
    """Every rnnmem module that the file at `path` (module `name`; by default read off the
    path) imports, anywhere in it.

    `from a.b import c` names a.b, and a.b.c when c is itself a module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    _drop_type_checking_blocks(tree)
    this = name or _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return {name for name in found if module_file(name) is not None}


def _drop_type_checking_blocks(tree: ast.AST) -> None:
    """Empty every `if TYPE_CHECKING:` body in place: those imports never run."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                node.body = []


def _with_parents(module: str) -> list[str]:
    """`a.b.c` -> [a, a.b, a.b.c]: importing a module runs its packages' __init__ first."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def import_closure(*modules: str) -> tuple[Path, ...]:
    """The files of `modules` and of every rnnmem module they import, transitively; sorted."""
    seen: set[str] = set()
    todo = [parent for module in modules for parent in _with_parents(module)]
    while todo:
        name = todo.pop()
        if name in seen or module_file(name) is None:
            continue
        seen.add(name)
        for imported in imported_modules(module_file(name)):
            todo.extend(_with_parents(imported))
    return tuple(sorted(module_file(name) for name in seen))


def command_files(command: str) -> tuple[Path, ...]:
    """The files `python -m rnnmem <command>` can run: __main__'s closure and its module's."""
    if command not in COMMANDS:
        raise KeyError(f"unknown rnnmem command {command!r}; known: {', '.join(COMMANDS)}")
    return import_closure(f"{PACKAGE}.__main__", COMMANDS[command].module)


def files_digest(files) -> str:
    """sha256 (16 hex digits) over each file's path relative to rnnmem/ and its bytes."""
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(str(file.relative_to(PACKAGE_ROOT)).encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def command_code(command: str) -> str:
    """The code version of a rule that runs `python -m rnnmem <command>`."""
    return files_digest(command_files(command))

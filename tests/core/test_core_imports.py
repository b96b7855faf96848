"""rnnmem/core is shared by every study and imports none of them."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "rnnmem" / "core"
STUDIES = ("rnnmem.memorization", "rnnmem.forgetting", "rnnmem.long_memory")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names; `from rnnmem import x` gives rnnmem.x)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # relative imports inside rnnmem/core stay in core unless they climb out of it
            assert node.level == 1, f"{path.name}: relative import leaves rnnmem/core"
    return names


def test_core_imports_no_study_package():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 8, files
    offending = {
        f"{path.relative_to(CORE)}: {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == s or name.startswith(s + ".") for s in STUDIES)
    }
    assert not offending, sorted(offending)


def test_the_check_sees_study_imports(tmp_path):
    """The parser catches each way of naming a study package."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import rnnmem.forgetting.simulate\n"
        "from rnnmem.memorization.task import TaskSpec\n"
        "from rnnmem import long_memory\n"
        "def f():\n    import rnnmem.memorization as m\n"
    )
    names = imported_modules(probe)
    assert {"rnnmem.forgetting.simulate", "rnnmem.memorization.task", "rnnmem.long_memory"} <= names
    assert "rnnmem.memorization" in names

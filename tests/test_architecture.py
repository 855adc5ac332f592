"""Import contracts: the library never imports the app, Qt or pyqtgraph, and the app's charts and
registry panel stay independent of each other. Each is checked twice: statically, over every import
statement in the source (inside functions too), and by importing the modules in a fresh interpreter."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUI_PACKAGES = ("app", "PySide6", "shiboken6", "pyqtgraph")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_under(package: str) -> dict[str, Path]:
    """Every module of ``package`` (a folder under the project root), by dotted name."""
    return {module_name(p): p for p in sorted((ROOT / package.replace(".", "/")).rglob("*.py"))}


def imported_names(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, wherever it stands: module level,
    functions, ``if TYPE_CHECKING`` blocks, and ``importlib.import_module("...")`` with a literal name."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            # `from . import x` and `from pkg import sub` may name submodules: count each name too
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module")))):
            found.append((node.lineno, node.args[0].value))
    return found


def is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def static_violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for module, path in modules_under(package).items():
        for line, name in imported_names(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            if any(is_under(name, f) for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return bad


def loaded_after_importing(modules: list[str]) -> list[str]:
    """sys.modules of a fresh interpreter after importing ``modules``, in order."""
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_import_parser_sees_every_form_of_import():
    source = ("import os\n"
              "from . import sibling\n"
              "from ..store import layout\n"
              "def later():\n"
              "    import PySide6.QtCore\n"
              "    from app.main import main\n"
              "    importlib.import_module('pyqtgraph')\n")
    names = [name for _, name in imported_names(source, "tracker.index.table", is_package=False)]
    assert names == ["os", "tracker.index", "tracker.index.sibling", "tracker.store", "tracker.store.layout",
                     "PySide6.QtCore", "app.main", "app.main.main", "pyqtgraph"]
    assert [n for _, n in imported_names("from . import x\n", "tracker.store", is_package=True)] == [
        "tracker.store", "tracker.store.x"]


def test_tracker_source_never_imports_the_app_qt_or_pyqtgraph():
    assert static_violations("tracker", GUI_PACKAGES) == []


def test_importing_every_tracker_module_loads_no_app_qt_or_pyqtgraph():
    modules = list(modules_under("tracker"))
    assert len(modules) > 50  # the walk found the library, not an empty folder
    loaded = loaded_after_importing(modules)
    assert set(modules) <= set(loaded)
    assert [m for m in loaded if any(is_under(m, p) for p in GUI_PACKAGES)] == []


def test_the_charts_and_the_registry_panel_do_not_import_each_other():
    assert static_violations("app.plots", ("app.registry",)) == []
    assert static_violations("app.registry", ("app.plots",)) == []


def test_importing_the_charts_or_the_registry_panel_does_not_load_the_other():
    plots = list(modules_under("app.plots"))
    registry = list(modules_under("app.registry"))
    assert plots and registry
    assert [m for m in loaded_after_importing(plots) if is_under(m, "app.registry")] == []
    assert [m for m in loaded_after_importing(registry) if is_under(m, "app.plots")] == []

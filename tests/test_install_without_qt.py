"""`pip install tracker` is the library and the registry; the desktop app is the [app] extra.

The dependency lists are read from pyproject.toml; the library is run in interpreters where the
app's packages cannot be imported, as on a machine that installed the library alone."""
from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
APP_ONLY = {"pyside6-essentials", "pyside6", "shiboken6", "pyqtgraph", "watchdog"}
# Importable names of the app's packages; a sitecustomize maps each to None in sys.modules,
# so `import PySide6` raises ImportError and find_spec says it is not there.
BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "watchdog")
INSTALL_HINT = f"pip install '{PROJECT['name']}[app]'"


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_the_app_packages_are_only_in_the_app_extra():
    core = names(PROJECT["dependencies"])
    extras = PROJECT["optional-dependencies"]
    assert core & APP_ONLY == set()
    assert {"pyside6-essentials", "pyqtgraph", "watchdog"} <= names(extras["app"])
    assert "ruff" in names(extras["test"]) and "pytest" in names(extras["test"])
    # Python 3.11 must not get PySide6 6.12 (it aborts after a few hundred signal emits)
    pyside = [Requirement(r) for r in extras["app"] if canonicalize_name(Requirement(r).name) == "pyside6-essentials"]
    on_311 = [r for r in pyside if r.marker is None or r.marker.evaluate({"python_version": "3.11"})]
    assert on_311 and all(not r.specifier.contains("6.12.0") for r in on_311)
    assert all(r.specifier.contains("6.11.2") for r in on_311)


def third_party_module_level_imports(package: Path) -> dict[str, str]:
    """Top-level name -> first file, for every import that runs when a module is loaded: not inside a
    function, not under ``if TYPE_CHECKING``."""
    found: dict[str, str] = {}

    def visit(node: ast.AST, path: Path) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(ast.Module(body=child.orelse, type_ignores=[]), path)
                continue
            tops = []
            if isinstance(child, ast.Import):
                tops = [a.name.split(".")[0] for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                tops = [child.module.split(".")[0]]
            for top in tops:
                if top not in sys.stdlib_module_names and top != package.name:
                    found.setdefault(top, str(path.relative_to(ROOT)))
            visit(child, path)

    for path in sorted(package.rglob("*.py")):
        visit(ast.parse(path.read_text(encoding="utf-8")), path)
    return found


def test_what_the_library_imports_on_load_is_a_core_dependency():
    core = names(PROJECT["dependencies"])
    distributions = importlib.metadata.packages_distributions()
    imports = third_party_module_level_imports(ROOT / "tracker")
    assert "numpy" in imports  # the walk sees the library's imports
    missing = {top: where for top, where in imports.items()
               if not names(distributions.get(top, [top])) & core}
    assert missing == {}


def test_what_the_app_imports_on_load_is_a_core_or_app_dependency():
    allowed = names(PROJECT["dependencies"]) | names(PROJECT["optional-dependencies"]["app"])
    # and what those bring with them (PySide6-Essentials installs shiboken6)
    allowed |= {canonicalize_name(Requirement(r).name) for d in sorted(allowed)
                for r in importlib.metadata.requires(d) or [] if "extra ==" not in r}
    distributions = importlib.metadata.packages_distributions()
    imports = third_party_module_level_imports(ROOT / "app")
    imports.pop("tracker", None)
    assert "PySide6" in imports
    missing = {top: where for top, where in imports.items()
               if not names(distributions.get(top, [top])) & allowed}
    assert missing == {}


@pytest.fixture
def without_app_packages(tmp_path):
    """Environment for a subprocess in which the [app] extra's packages cannot be imported."""
    site = tmp_path / "no_app_extra"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"for name in {BLOCKED!r}:\n"
        "    sys.modules[name] = None\n", encoding="utf-8")
    path = os.pathsep.join([str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


TRAINING_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from sklearn.tree import DecisionTreeClassifier
    import tracker

    for name in %r:
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            sys.exit(f"{name} is importable: the test does not test what it says")

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    tracker.set_experiment("no-qt")
    with tracker.start_run(run_name="tree") as run:
        tracker.log_param("max_depth", 2)
        for step, loss in enumerate([0.9, 0.5, 0.2]):
            tracker.log_metric("loss", loss, step=step)
        model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        tracker.sklearn.log_model(model, name="model")
    version = tracker.register_model(f"runs:/{run.info.run_id}/model", "tree")
    found = tracker.search_runs(experiment_names=["no-qt"], filter_string="params.max_depth = '2'",
                                output_format="list")
    versions = tracker.Client().search_model_versions("name = 'tree'")
    print(found[0].info.run_id == run.info.run_id, found[0].data.metrics["loss"], version.version,
          ",".join(str(v.version) for v in versions))
""")


def test_a_training_script_runs_without_the_app_packages(without_app_packages, tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAINING_SCRIPT % (BLOCKED,), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=without_app_packages,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "0.2", "1", "1"]


@pytest.mark.parametrize("command", [["-m", "tracker.cli", "ui"], ["-m", "app.main"]],
                         ids=["tracker ui", "tracker-app"])
def test_the_app_without_its_packages_says_which_extra_to_install(command, without_app_packages, tmp_path):
    result = subprocess.run([sys.executable, *command, str(tmp_path)], cwd=tmp_path, env=without_app_packages,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert INSTALL_HINT in result.stderr
    assert "PySide6" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""

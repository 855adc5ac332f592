"""What may run when a model file is loaded: the one rule, and the loaders that follow it.

Trust comes from the reader, never from the model's folder. A pickle (or joblib) file runs
whatever code its author put in it, so it loads only when the caller says ``trust_pickle=True``
or a person recorded that decision when registering the version. A skops file names the types
it needs; it loads with skops' own trusted set, plus ``REVIEWED_SKOPS_TYPES`` below, plus the
types the caller (or the registry's record) trusts. The manifest beside a model, and the sha256
it lists, were written by whoever wrote the model: they decide nothing here. See docs/security.md.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Classes reviewed for this library that skops does not trust by default. Each is a
# scikit-learn distance metric whose distance uses only the two points and the scalar ``p``:
# the arrays in its saved state are never indexed. Not listed, on purpose: metrics that index a
# saved array by feature number (SEuclidean, Minkowski with weights, Mahalanobis), Haversine
# (reads two features whatever the data has), PyFunc (holds a Python function), and the
# KDTree/BallTree/Tree/TreePredictor index structures, whose saved node indices scikit-learn
# follows without bounds checks (a crafted file reads or crashes outside its arrays).
_PARAMETER_FREE_METRICS = (
    "Euclidean", "Manhattan", "Chebyshev", "Hamming", "Canberra", "BrayCurtis", "Jaccard", "Matching",
    "Dice", "Kulsinski", "RogersTanimoto", "RussellRao", "SokalMichener", "SokalSneath",
)
REVIEWED_SKOPS_TYPES: frozenset[str] = frozenset(
    f"sklearn.metrics._dist_metrics.{name}Distance{bits}" for name in _PARAMETER_FREE_METRICS for bits in (32, 64))

PICKLE_SUFFIXES = {".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib"}
_TYPE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


class UntrustedModelError(ValueError):
    """A model file needs trust nobody gave: ``untrusted_types`` (skops) or a pickle."""

    def __init__(self, message: str, untrusted_types: Iterable[str] = (), pickle: bool = False) -> None:
        super().__init__(message)
        self.untrusted_types = tuple(untrusted_types)
        self.pickle = pickle


@dataclass(frozen=True)
class Trust:
    """Trust given by a caller or recorded by a person in the registry."""

    types: tuple[str, ...] = ()
    pickle: bool = False

    @classmethod
    def of(cls, trusted: Any = None, trust_pickle: bool = False) -> "Trust":
        return cls(normalize_types(trusted), bool(trust_pickle))

    def __or__(self, other: "Trust") -> "Trust":
        return Trust(tuple(sorted({*self.types, *other.types})), self.pickle or other.pickle)

    @property
    def code(self) -> bool:
        """May run code the model's author wrote: a pickle, or a models-from-code file. One decision,
        recorded by the registry as ``trust_pickle``."""
        return self.pickle

    def __bool__(self) -> bool:
        return bool(self.types) or self.pickle

    def describe(self) -> str:
        """One line for the history and the CLI: ``pickle; sklearn.tree._tree.Tree, ...`` (or ``-``)."""
        return "; ".join(filter(None, ["pickle" if self.pickle else "", ", ".join(self.types)])) or "-"


def normalize_types(trusted: Any) -> tuple[str, ...]:
    """Sorted, unique ``module.Name`` strings from None, a name, a type, or a list of them."""
    if trusted is None:
        return ()
    items = [trusted] if isinstance(trusted, (str, type)) else list(trusted)
    names = set()
    for item in items:
        name = f"{item.__module__}.{item.__qualname__}" if isinstance(item, type) else item
        if not isinstance(name, str) or not _TYPE_NAME.match(name):
            raise ValueError(f"trusted: {item!r} is not a type or a dotted type name such as "
                             "'sklearn.tree._tree.Tree'")
        names.add(name)
    return tuple(sorted(names))


def file_format(path: Path) -> str:
    """"skops", "pickle" or "joblib", from the file's suffix; ValueError for anything else."""
    suffix = path.suffix.lower()
    if suffix == ".skops":
        return "skops"
    if suffix in PICKLE_SUFFIXES:
        return PICKLE_SUFFIXES[suffix]
    raise ValueError(f"{path}: not a model file this flavor loads (.skops, .pkl, .pickle, .joblib)")


def load_file(path: str | os.PathLike, trust: Trust = Trust()) -> Any:
    """Load one model file, running only what ``trust`` (and skops' defaults) allow."""
    path = Path(path)
    fmt = file_format(path)
    if fmt == "skops":
        return _load_skops(path, trust.types)
    if not trust.pickle:
        raise UntrustedModelError(
            f"{path} is a {fmt} file: loading it runs any code its author put in it. Pass trust_pickle=True "
            "only if you trust whoever wrote it (a manifest beside it proves nothing: its author wrote that too), "
            "or register it with trust_pickle=True so the registry records your decision", pickle=True)
    if fmt == "joblib":
        import joblib
        return joblib.load(path)
    import pickle
    with open(path, "rb") as f:
        return pickle.load(f)


def require_code_trust(path: str | os.PathLike, trust: Trust) -> None:
    """Refuse to run a model's Python code (models-from-code) unless the caller or the registry trusts it."""
    if not trust.code:
        raise UntrustedModelError(
            f"{path} is Python code: loading the model runs it, with your permissions. Pass trust_code=True "
            "(trust_pickle=True is the same decision) only if you trust whoever wrote it (a manifest beside it "
            "proves nothing: its author wrote that too), or register it with trust_pickle=True so the registry "
            "records your decision", pickle=True)


def untrusted_types_of(path: str | os.PathLike) -> tuple[str, ...]:
    """The types a skops file needs beyond skops' defaults and ``REVIEWED_SKOPS_TYPES``.

    Reads the file's schema only (``skops.io.get_untrusted_types``): nothing in it is imported or run.
    """
    import skops.io as sio
    return tuple(sorted(set(sio.get_untrusted_types(file=Path(path))) - REVIEWED_SKOPS_TYPES))


def needed_trust(path: str | os.PathLike) -> Trust:
    """What a person would have to trust to load the model file(s) at ``path`` (a file or a folder).

    For showing before a registration: the answer is information for the person deciding,
    computed from the files' names and skops schemas, never by loading anything.
    """
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    types: set[str] = set()
    pickle = False
    for file in files:
        suffix = file.suffix.lower()
        if suffix in PICKLE_SUFFIXES or suffix == ".py":  # a models-from-code file runs when loaded
            pickle = True
        elif suffix == ".skops":
            try:
                types.update(untrusted_types_of(file))
            except Exception:  # noqa: BLE001 - a damaged file is refused when loaded; here it only needs no trust
                continue
    return Trust(tuple(sorted(types)), pickle)


def _load_skops(path: Path, trusted: tuple[str, ...]) -> Any:
    import skops.io as sio
    found = set(sio.get_untrusted_types(file=path))  # reads the file's schema; imports nothing from it
    allowed = REVIEWED_SKOPS_TYPES | set(trusted)
    missing = sorted(found - allowed)
    if missing:
        listed = ", ".join(repr(t) for t in missing)
        raise UntrustedModelError(
            f"{path} needs types that are not trusted: {listed}. Loading them may run code or, for "
            "index structures such as sklearn.tree._tree.Tree, read outside the model's arrays. If you trust "
            f"whoever wrote this file, pass trusted=[{listed}] to load_model (or to register_model, so the "
            "registry records the decision); only list types you have reviewed", untrusted_types=missing)
    return sio.load(path, trusted=sorted(found))

"""What checking every field of run.json costs: ``rundoc.check_document`` against reading and
parsing the files, and a cold index refresh with and without the check.

    python bench/bench_run_doc_check.py [runs dir]   (default: 10,000 runs from generate_runs.py in a temp dir)
"""
from __future__ import annotations

import copy
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tracker.index import RunIndex
from tracker.store import layout, rundoc
from tracker.store.atomic import read_json


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(root: str) -> None:
    entries = layout.list_run_dirs(root)
    docs = [read_json(path + "/run.json") for _, path in entries]
    names = [name for name, _ in entries]
    fresh = [copy.deepcopy(doc) for doc in docs]
    n = len(entries)
    read = best(lambda: [read_json(path + "/run.json") for _, path in entries])
    check = best(lambda: [rundoc.check_document(doc, name) for doc, name in zip(fresh, names)])
    print(f"{n:,} runs: read + parse {read * 1e3:.0f} ms ({read / n * 1e6:.1f} us a run), "
          f"check {check * 1e3:.0f} ms ({check / n * 1e6:.1f} us a run, {check / read:.0%} of reading)")
    real = rundoc.check_document
    for label, fn in (("with the check", real), ("without", lambda doc, folder=None: doc)):
        rundoc.check_document = fn
        with tempfile.TemporaryDirectory() as tmp:
            seconds = best(lambda: RunIndex(root, path=os.path.join(tmp, f"{time.perf_counter_ns()}.db")).refresh(), 3)
        print(f"cold index refresh {label}: {seconds:.2f} s")
    rundoc.check_document = real


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from generate_runs import generate
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp, 10_000, steps=2)
            main(tmp)

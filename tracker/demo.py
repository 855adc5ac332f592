"""Demo runs: the iris random-forest example over a small grid, a long training curve, a run
whose loss blew up, a learning-rate sweep of nested runs, and a registered model.

Used by ``tracker demo DIR``, ``make run`` on first start and the app's "Create demo runs".

The runs are written through ``Client`` as a script replaying logged training would:
``create_run(start_time=)``, ``log_batch`` with each point's own timestamp, ``set_terminated(end_time=)``.
They read as work done over the last few days (seconds for a forest, minutes for a network),
and the newest one finished well. The registry gets ``iris-classifier`` with three versions
(Archived, Production with ``@champion``, Staging with ``@challenger``) made from the grid's runs.
"""
from __future__ import annotations

import math
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Callable

from .client import Client
from .entities import Metric, RunStatus

GRID = [(n, d) for n in (2, 10, 100) for d in (1, 2, 10)]
# The example's own split (random_state=42) scores 1.0 almost everywhere on iris;
# this split separates the grid's settings, so the demo has something to compare.
SPLIT_SEED = 7
MODEL_NAME = "iris-classifier"
MODEL_ARTIFACT = "random-forest-model"
# Grid runs whose forests are registered, oldest version first: v1 is archived when v2 is
# promoted, v3 waits in Staging.
REGISTERED = ((10, 2), (10, 10), (100, 10))

# The demo trained these forests itself, moments before registering them: it records that it
# trusts the one type a forest needs beyond skops' defaults, so ``load_model("models:/iris-classifier@champion")``
# works as it would for the person who trained them.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]

SECOND, HOUR, DAY = 1_000, 3_600_000, 86_400_000


class _Timeline:
    """Milliseconds since the epoch, advanced as a run's work would take; seeded, so every demo
    tells the same story relative to ``now``."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms
        self.rng = random.Random(2024)

    def ago(self, days: float, hours: float = 0.0) -> int:
        return int(self.now - days * DAY - hours * HOUR)

    def jitter(self, ms: float, spread: float = 0.15) -> int:
        return max(1, int(ms * self.rng.uniform(1 - spread, 1 + spread)))


def write_demo_runs(root: str | os.PathLike, progress: Callable[[int, int], None] | None = None,
                    now: float | None = None) -> None:
    """Log the demo runs into ``root`` and register their model; ``progress(done, total)`` after
    each step. ``now`` (seconds since the epoch, default the current time) anchors the timeline."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    client = Client(root)
    clock = _Timeline(int((time.time() if now is None else now) * 1000))
    total = len(GRID) + 4
    iris = load_iris()
    split = train_test_split(iris.data, iris.target, test_size=0.3, random_state=SPLIT_SEED)
    iris_id, mnist_id = _experiment_id(client, "iris-random-forest"), _experiment_id(client, "mnist-mlp")
    start = clock.ago(3, 5)
    forests: dict[tuple[int, int], str] = {}
    for i, (n_estimators, max_depth) in enumerate(GRID, 1):
        forests[(n_estimators, max_depth)], end = _forest(client, iris_id, clock, start, n_estimators, max_depth,
                                                          split)
        start = end + clock.jitter(45 * SECOND, 0.6)  # the next setting, tried by hand
        if progress:
            progress(i, total)
    # SGD diverged at lr=1.0, a sweep found a rate that works, then a long run with Adam: the newest
    # run (the one the app shows first) is a finished training with curves and artifacts
    _diverged(client, mnist_id, clock, clock.ago(1, 22))
    _lr_sweep(client, mnist_id, clock, clock.ago(1, 21))
    if progress:
        progress(len(GRID) + 2, total)
    _training_curve(client, mnist_id, clock, clock.ago(0, 6))
    if progress:
        progress(len(GRID) + 3, total)
    _register(client, forests)
    if progress:
        progress(total, total)


def _experiment_id(client: Client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def _forest(client: Client, experiment: str, clock: _Timeline, start: int, n_estimators: int, max_depth: int,
            split: list) -> tuple[str, int]:
    """One grid point: fit, score, and for the registered settings save the model; (run id, end time)."""
    from sklearn.ensemble import RandomForestClassifier
    x_train, x_test, y_train, y_test = split
    run = client.create_run(experiment, start_time=start,
                            tags={"team": "demo"}, run_name=f"rf-{n_estimators}-{max_depth}")
    run_id = run.info.run_id
    client.log_param(run_id, "n_estimators", n_estimators)
    client.log_param(run_id, "max_depth", max_depth)
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=42)
    rf.fit(x_train, y_train)
    # a forest of n trees on iris, with loading the data and scoring: about a second plus 40 ms a tree
    end = start + clock.jitter(1.2 * SECOND + 40 * n_estimators)
    client.log_batch(run_id, metrics=[Metric("accuracy", rf.score(x_test, y_test), end - 200, 0),
                                      Metric("train_accuracy", rf.score(x_train, y_train), end - 150, 0)])
    if (n_estimators, max_depth) in REGISTERED:
        _log_forest(client, run_id, rf, x_test[:3])
        end += clock.jitter(600)  # saving the model
    client.set_terminated(run_id, RunStatus.FINISHED, end_time=end)
    return run_id, end


def _log_forest(client: Client, run_id: str, rf, example) -> None:
    """The model folder ``tracker.sklearn.log_model`` would write, logged into the run through the client."""
    from . import sklearn as tracker_sklearn
    with tempfile.TemporaryDirectory(prefix="tracker-demo-") as tmp:
        folder = Path(tmp) / MODEL_ARTIFACT
        tracker_sklearn.save_model(rf, folder, input_example=example, run_id=run_id)
        client.log_artifacts(run_id, folder, MODEL_ARTIFACT)


def _epochs(client: Client, run_id: str, start: int, epochs: int, epoch_ms: float, clock: _Timeline,
            values: Callable[[int], dict[str, float]]) -> int:
    """Log ``values(epoch)`` once per epoch, each point stamped when its epoch ended; the last stamp."""
    points, ts = [], start
    for epoch in range(epochs):
        ts += clock.jitter(epoch_ms, 0.08)
        points += [Metric(key, value, ts, epoch) for key, value in values(epoch).items()]
    client.log_batch(run_id, metrics=points)
    return ts


def _training_curve(client: Client, experiment: str, clock: _Timeline, start: int, epochs: int = 200) -> None:
    """A longer run with per-epoch loss and accuracy, as a neural network's training would log."""
    rng = random.Random(7)
    run = client.create_run(experiment, start_time=start, run_name="mlp-long-training",
                            tags={"mlflow.note.content": "A simulated 200-epoch training run with noisy curves."})
    run_id = run.info.run_id
    for key, value in {"lr": 0.001, "batch_size": 64, "optimizer": "adam", "epochs": epochs}.items():
        client.log_param(run_id, key, value)

    def epoch_values(epoch: int) -> dict[str, float]:
        loss = 2.3 * math.exp(-epoch / 40) + 0.05 + rng.gauss(0, 0.03)
        val_loss = loss + 0.04 + 0.0004 * max(0, epoch - 120) + rng.gauss(0, 0.02)
        acc = 1 - 0.9 * math.exp(-epoch / 35) - rng.uniform(0, 0.02)
        return {"train/loss": loss, "val/loss": val_loss, "val/accuracy": acc}
    last = _epochs(client, run_id, start + clock.jitter(3 * SECOND), epochs, 4.5 * SECOND, clock, epoch_values)
    client.log_dict(run_id, {"layers": [784, 256, 128, 10], "activation": "relu"}, "config.json")
    client.log_text(run_id, "epoch,note\n0,start\n120,overfitting begins\n", "notes.csv")
    client.set_terminated(run_id, RunStatus.FINISHED, end_time=last + clock.jitter(2 * SECOND))


def _diverged(client: Client, experiment: str, clock: _Timeline, start: int) -> None:
    """A run whose loss blew up at a learning rate of 1.0: it ends FAILED after four epochs."""
    run = client.create_run(experiment, start_time=start, run_name="mlp-diverged",
                            tags={"mlflow.note.content": "lr=1.0: the loss became NaN at epoch 3; stopped."})
    run_id = run.info.run_id
    for key, value in {"lr": 1.0, "batch_size": 64, "optimizer": "sgd", "epochs": 200}.items():
        client.log_param(run_id, key, value)
    losses = (2.3, 3.9, 41.0, float("nan"))
    last = _epochs(client, run_id, start + clock.jitter(3 * SECOND), len(losses), 4.5 * SECOND, clock,
                   lambda epoch: {"train/loss": losses[epoch]})
    client.set_terminated(run_id, RunStatus.FAILED, end_time=last + 300)


def _lr_sweep(client: Client, experiment: str, clock: _Timeline, start: int) -> None:
    """A parent run with one nested run per learning rate, one after another, as a sweep logs."""
    rng = random.Random(11)
    parent = client.create_run(experiment, start_time=start, run_name="lr-sweep",
                               tags={"mlflow.note.content": "Three learning rates, one nested run each."})
    parent_id = parent.info.run_id
    client.log_param(parent_id, "optimizer", "sgd")
    at = start + clock.jitter(2 * SECOND)
    final: dict[float, float] = {}
    for lr in (0.1, 0.01, 0.001):
        child = client.create_run(experiment, start_time=at, run_name=f"sgd-lr-{lr}",
                                  tags={"mlflow.parentRunId": parent_id})
        child_id = child.info.run_id
        for key, value in {"lr": lr, "batch_size": 64, "optimizer": "sgd", "epochs": 60}.items():
            client.log_param(child_id, key, value)

        def epoch_values(epoch: int, lr: float = lr) -> dict[str, float]:
            final[lr] = 1 - 0.9 / (1 + epoch * lr * 12) - rng.uniform(0, 0.02)
            return {"train/loss": 2.3 / (1 + epoch * lr * 10) + rng.gauss(0, 0.02), "val/accuracy": final[lr]}
        last = _epochs(client, child_id, at + clock.jitter(2 * SECOND), 60, 1.8 * SECOND, clock, epoch_values)
        at = last + clock.jitter(1 * SECOND)
        client.set_terminated(child_id, RunStatus.FINISHED, end_time=at)
    best = max(final, key=final.__getitem__)  # what a sweep reports on its parent
    client.log_param(parent_id, "best_lr", best)
    client.log_metric(parent_id, "best/val_accuracy", final[best], timestamp=at + 200)
    client.set_terminated(parent_id, RunStatus.FINISHED, end_time=at + 500)


def _register(client: Client, forests: dict[tuple[int, int], str]) -> None:
    """``iris-classifier``: v1 promoted then archived by v2 (``@champion``, Production), v3 in Staging
    (``@challenger``); each version's lineage points at its grid run."""
    if client.search_registered_models(f"name = '{MODEL_NAME}'", include_deleted=True):
        return  # demo runs written again into the same folder (or its model deleted): leave the registry be
    client.create_registered_model(MODEL_NAME, description="Random forests on the iris measurements (demo)")
    versions = [client.register_model(f"runs:/{forests[setting]}/{MODEL_ARTIFACT}", MODEL_NAME,
                                      description=f"n_estimators={setting[0]}, max_depth={setting[1]}",
                                      trusted=TRUSTED_TYPES)
                for setting in REGISTERED]
    first, second, third = (mv.version for mv in versions)
    client.transition_model_version_stage(MODEL_NAME, first, "Production", comment="first model")
    client.transition_model_version_stage(MODEL_NAME, second, "Production", archive_existing_versions=True,
                                          comment="deeper trees score better on the test split")
    client.transition_model_version_stage(MODEL_NAME, third, "Staging", comment="100 trees: as accurate, to review")
    client.set_registered_model_alias(MODEL_NAME, "champion", second)
    client.set_registered_model_alias(MODEL_NAME, "challenger", third)

"""Demo runs: the iris random-forest example over a small grid, a long training curve,
a learning-rate sweep of nested runs, and a run that failed.

Used by ``tracker demo DIR``, ``make run`` on first start and the app's "Create demo runs".
"""
from __future__ import annotations

import math
import os
import random

from . import config, fluent

GRID = [(n, d) for n in (2, 10, 100) for d in (1, 2, 10)]
# The example's own split (random_state=42) scores 1.0 almost everywhere on iris;
# this split separates the grid's settings, so the demo has something to compare.
SPLIT_SEED = 7


def write_demo_runs(root: str | os.PathLike, progress=None) -> None:
    """Log the demo runs into ``root``; ``progress(done, total)`` is called after each run."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    from . import sklearn as tracker_sklearn

    previous = config._tracking_dir
    config.set_tracking_dir(root)
    total = len(GRID) + 3
    try:
        iris = load_iris()
        x_train, x_test, y_train, y_test = train_test_split(
            iris.data, iris.target, test_size=0.3, random_state=SPLIT_SEED)
        for i, (n_estimators, max_depth) in enumerate(GRID, 1):
            with fluent.start_run(run_name=f"rf-{n_estimators}-{max_depth}", experiment="iris-random-forest",
                                  tags={"team": "demo"}):
                fluent.log_params({"n_estimators": n_estimators, "max_depth": max_depth})
                rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=42)
                rf.fit(x_train, y_train)
                fluent.log_metric("accuracy", rf.score(x_test, y_test))
                fluent.log_metric("train_accuracy", rf.score(x_train, y_train))
                if (n_estimators, max_depth) == (100, 10):
                    tracker_sklearn.log_model(rf, "random-forest-model", input_example=x_test[:3])
            if progress:
                progress(i, total)
        _training_curve()
        _lr_sweep()
        _diverged()
        if progress:
            progress(total, total)
    finally:
        config._tracking_dir = previous


def _training_curve(epochs: int = 200) -> None:
    """A longer run with per-epoch loss and accuracy, as a neural network's training would log."""
    rng = random.Random(7)
    with fluent.start_run(run_name="mlp-long-training", experiment="mnist-mlp",
                          description="A simulated 200-epoch training run with noisy curves."):
        fluent.log_params({"lr": 0.001, "batch_size": 64, "optimizer": "adam", "epochs": epochs})
        for epoch in range(epochs):
            loss = 2.3 * math.exp(-epoch / 40) + 0.05 + rng.gauss(0, 0.03)
            val_loss = loss + 0.04 + 0.0004 * max(0, epoch - 120) + rng.gauss(0, 0.02)
            acc = 1 - 0.9 * math.exp(-epoch / 35) - rng.uniform(0, 0.02)
            fluent.log_metrics({"train/loss": loss, "val/loss": val_loss, "val/accuracy": acc}, step=epoch)
        fluent.log_dict({"layers": [784, 256, 128, 10], "activation": "relu"}, "config.json")
        fluent.log_text("epoch,note\n0,start\n120,overfitting begins\n", "notes.csv")


def _lr_sweep() -> None:
    """A parent run with one nested run per learning rate, as a hyper-parameter sweep logs."""
    rng = random.Random(11)
    with fluent.start_run(run_name="lr-sweep", experiment="mnist-mlp",
                          description="Three learning rates, one nested run each."):
        fluent.log_param("optimizer", "sgd")
        for lr in (0.1, 0.01, 0.001):
            with fluent.start_run(run_name=f"sgd-lr-{lr}", experiment="mnist-mlp", nested=True):
                fluent.log_params({"lr": lr, "batch_size": 64, "optimizer": "sgd", "epochs": 60})
                for epoch in range(60):
                    fluent.log_metrics({
                        "train/loss": 2.3 / (1 + epoch * lr * 10) + rng.gauss(0, 0.02),
                        "val/accuracy": 1 - 0.9 / (1 + epoch * lr * 12) - rng.uniform(0, 0.02),
                    }, step=epoch)


def _diverged() -> None:
    """A run whose loss blew up: it ends FAILED with the exception recorded."""
    try:
        with fluent.start_run(run_name="mlp-diverged", experiment="mnist-mlp"):
            fluent.log_params({"lr": 1.0, "batch_size": 64, "optimizer": "sgd", "epochs": 200})
            for epoch, loss in enumerate((2.3, 3.9, 41.0)):
                fluent.log_metric("train/loss", loss, step=epoch)
            fluent.log_metric("train/loss", float("nan"), step=3)
            raise FloatingPointError("loss became NaN at epoch 3")
    except FloatingPointError:
        pass

"""The classifier plots scikit-learn autologging records, as MLflow's: for the training data, a
normalized confusion matrix (``training_confusion_matrix.png``) for every classifier, and for a
binary one (two distinct labels in ``y``) a ROC curve (``training_roc_curve.png``) and a
precision-recall curve (``training_precision_recall_curve.png``).

matplotlib is optional: without it nothing is drawn. Figures are drawn on their own Agg canvas
(``Figure`` + ``FigureCanvasAgg``), never through pyplot's figure manager or ``matplotlib.use``,
so the user's backend, open figures and rcParams are left as they were.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .sklearn_logging import TRAINING_PREFIX

FIGURE_SIZE = (6.0, 4.0)  # inches, as MLflow
DPI = 175
FONT_SIZE = 8.0
TITLE_SIZE = FONT_SIZE * 1.2  # matplotlib's "large" title at MLflow's font size


@dataclass(frozen=True)
class ClassifierPlot:
    name: str   # artifact name without ".png"
    title: str
    draw: Callable[[Any], Any]  # draws on the given Axes and returns the sklearn Display


def classifier_plots(estimator: Any, X: Any, y: Any, sample_weight: Any) -> list[ClassifierPlot]:
    """The plots MLflow draws for ``estimator`` trained on ``(X, y)`` (none for a non-classifier
    or without labels)."""
    import sklearn.base
    from sklearn import metrics
    if y is None or not sklearn.base.is_classifier(estimator):
        return []
    plots = [ClassifierPlot(
        TRAINING_PREFIX + "confusion_matrix", "Normalized confusion matrix",
        lambda ax: metrics.ConfusionMatrixDisplay.from_estimator(
            estimator, X, y, sample_weight=sample_weight, normalize="true", cmap="Blues", ax=ax))]
    # The curves need a binary problem; sklearn's displays score with predict_proba, or
    # decision_function when there is none (an estimator with neither fails with a warning).
    if len(set(y)) == 2:
        plots.append(ClassifierPlot(
            TRAINING_PREFIX + "roc_curve", "ROC curve",
            lambda ax: metrics.RocCurveDisplay.from_estimator(estimator, X, y, sample_weight=sample_weight, ax=ax)))
        plots.append(ClassifierPlot(
            TRAINING_PREFIX + "precision_recall_curve", "Precision recall curve",
            lambda ax: metrics.PrecisionRecallDisplay.from_estimator(
                estimator, X, y, sample_weight=sample_weight, ax=ax)))
    return plots


def _class_count(estimator: Any, y: Any) -> int:
    classes = getattr(estimator, "classes_", None)
    return len(classes) if classes is not None else len(set(y))


def render(plot: ClassifierPlot, font_size: float) -> Any:
    """``plot`` drawn on a new Figure with its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="tight")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    display = plot.draw(ax)
    # Sizes set on the texts themselves: rc_context would change rcParams for every thread.
    for text in figure.findobj(Text):
        text.set_fontsize(font_size)
    for axes in figure.axes:
        axes.xaxis.label.set_fontsize(FONT_SIZE)
        axes.yaxis.label.set_fontsize(FONT_SIZE)
    display.ax_.set_title(plot.title, fontsize=TITLE_SIZE)
    return figure


def matplotlib_available() -> bool:
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def log_classifier_plots(estimator: Any, X: Any, y: Any, sample_weight: Any, config: dict[str, Any],
                         safely: Callable[[dict[str, Any], str, Callable[[], Any]], Any]) -> None:
    """Log each of ``classifier_plots`` to the active run; a plot that fails is a warning and the
    others are still logged. Raises ImportError without matplotlib."""
    import tracker
    plots = classifier_plots(estimator, X, y, sample_weight)
    if not plots:
        return
    if not matplotlib_available():  # a warning, as MLflow's
        raise ImportError("matplotlib is not installed; the classifier plots are not drawn")
    # Many classes: smaller cell labels so they stay inside their cells (MLflow's rule).
    cells_font = min(FONT_SIZE, 50.0 / max(_class_count(estimator, y), 1))
    for plot in plots:
        font = cells_font if plot.name.endswith("confusion_matrix") else FONT_SIZE
        safely(config, f"logging {plot.name}.png",
               lambda plot=plot, font=font: tracker.log_figure(render(plot, font), f"{plot.name}.png"))

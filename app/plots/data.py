"""The charts' data: metric series read off the GUI thread, kept in growing buffers, kept live.

Per (run, key) a ``_Series`` holds the points read so far and the byte position where the
next tail read starts. Reading (``app.runs.access.read_metric``: tracker's runs or an MLflow
store's) and preparing (dedupe, smoothing, x values: ``series_math.prepare``) both run on the
worker; at most one read and one prepare per series are in flight, newer requests coalesce
behind them.

Live: ``refresh(runs)`` (the app's watcher saw them change) and a poll timer for runs
still RUNNING read only the records appended since the saved position.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from tracker.entities import Run, RunStatus

from app.common.worker import Worker
from app.runs.access import read_metric, read_run

from .series_math import PlotSettings, SeriesBuffer, prepare
from .x_metric import x_metric_key

LIVE_INTERVAL_MS = 150  # tails of RUNNING runs; with the writer's 200 ms flush, curves extend < 500 ms
DOC_EVERY = 7  # polls between re-reads of run.json (status, new keys): about once a second


class _Series:
    __slots__ = ("run_id", "key", "buffer", "position", "reading", "version", "preparing", "shown")

    def __init__(self, run_id: str, key: str) -> None:
        self.run_id = run_id
        self.key = key
        self.buffer: SeriesBuffer | None = None  # None until the first read is back
        self.position = 0
        self.reading = False
        self.version = 0  # bumps whenever points are added
        self.preparing = False
        self.shown: tuple[int, int] | None = None  # (version, settings generation) last emitted


class SeriesManager(QObject):
    """Owns every series the charts display; hands out ``Prepared`` arrays by signal."""

    series_ready = Signal(str, str, object)  # run_id, key, series_math.Prepared
    run_updated = Signal(object)  # a newer Run read by the live poll (status, new keys)
    failed = Signal(str)  # a human message: a metric file could not be read

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = Worker("chart-data", self, threads=2)
        self.settings = PlotSettings()
        self.settings_for = lambda key: self.settings  # the panel's, or a chart's own (its menu)
        self.runs: dict[str, Run] = {}
        self.series: dict[tuple[str, str], _Series] = {}
        self._refreshing: set[str] = set()
        self.poll_live = True  # poll RUNNING runs' tails; off, only refresh() extends curves
        self._polls = 0
        self.timer = QTimer(self)
        self.timer.setInterval(LIVE_INTERVAL_MS)
        self.timer.timeout.connect(self._on_poll)

    # -- what is displayed --------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """The displayed runs; series of runs no longer displayed are dropped."""
        self.runs = {r.info.run_id: r for r in runs}
        for key in [k for k in self.series if k[0] not in self.runs]:
            del self.series[key]
        self._refreshing &= set(self.runs)
        self._update_timer()

    def want(self, run_id: str, key: str) -> None:
        """Load a series (once); its Prepared arrives through ``series_ready``."""
        if (run_id, key) in self.series or run_id not in self.runs:
            return
        series = self.series[(run_id, key)] = _Series(run_id, key)
        self._read(series)

    def drop(self, run_id: str, key: str) -> None:
        self.series.pop((run_id, key), None)

    def set_settings(self, settings: PlotSettings) -> None:
        if settings == self.settings:
            return
        self.settings = settings
        for series in self.series.values():
            self._prepare(series)

    def reprepare(self, key: str) -> None:
        """The settings of ``key``'s chart changed: prepare its series again."""
        for (_, k), series in list(self.series.items()):
            if k == key:
                self._prepare(series)

    def prepared_pending(self) -> bool:
        return self.worker.pending > 0

    # -- live ----------------------------------------------------------------------------
    def refresh(self, runs: list[Run]) -> None:
        """Runs changed on disk: take their new info, read the new tail of their series."""
        for run in runs:
            if run.info.run_id in self.runs:
                self.runs[run.info.run_id] = run
                self._tail(run.info.run_id)
        self._update_timer()

    def _update_timer(self) -> None:
        live = self.poll_live and any(r.info.status == RunStatus.RUNNING for r in self.runs.values())
        if live and not self.timer.isActive():
            self.timer.start()
        elif not live:
            self.timer.stop()

    @Slot()
    def _on_poll(self) -> None:
        with_doc = self._polls % DOC_EVERY == 0
        self._polls += 1
        for run in list(self.runs.values()):
            if run.info.status == RunStatus.RUNNING and run.info.run_id not in self._refreshing:
                self._poll_run(run, with_doc)

    def _poll_run(self, run: Run, with_doc: bool = True) -> None:
        """Read the tails, and now and then run.json first (status, new keys): the writer
        appends records before it rewrites run.json, so the tails cover what it says."""
        run_id = run.info.run_id
        targets = self._tail_targets(run_id)
        if not targets and not with_doc:
            return
        self._refreshing.add(run_id)
        path = run.path

        def work():
            fresh = read_run(path) if with_doc else None
            return fresh, [(k, read_metric(path, k, pos)) for k, pos in targets]

        def done(result, error):
            self._refreshing.discard(run_id)
            self._release(run_id, targets)
            if error is not None:
                self.failed.emit(f"Could not read run {run_id[:8]}: {error}")
                return
            fresh, chunks = result
            self._apply_tails(run_id, chunks)
            if isinstance(fresh, Run) and run_id in self.runs:
                self.runs[run_id] = fresh
                self.run_updated.emit(fresh)
                self._update_timer()

        self._submit(work, done)

    def _tail(self, run_id: str) -> None:
        targets = self._tail_targets(run_id)
        if not targets:
            return
        path = self.runs[run_id].path

        def done(chunks, error):
            self._release(run_id, targets)
            if error is not None:
                self.failed.emit(f"Could not read run {run_id[:8]}: {error}")
                return
            self._apply_tails(run_id, chunks)

        self._submit(lambda: [(k, read_metric(path, k, pos)) for k, pos in targets], done)

    def _tail_targets(self, run_id: str) -> list[tuple[str, int]]:
        """Series of the run with no read in flight, marked as reading now."""
        targets = []
        for (rid, key), series in self.series.items():
            if rid == run_id and not series.reading and series.buffer is not None:
                series.reading = True
                targets.append((key, series.position))
        return targets

    def _release(self, run_id: str, targets) -> None:
        for key, _ in targets:
            series = self.series.get((run_id, key))
            if series is not None:
                series.reading = False

    def _apply_tails(self, run_id: str, chunks) -> None:
        for key, chunk in chunks:
            series = self.series.get((run_id, key))
            if series is None or len(chunk) == 0:
                continue
            series.buffer.append(chunk.steps, chunk.timestamps, chunk.values)
            series.position = chunk.position
            series.version += 1
            self._prepare(series)
            self._x_changed(series)

    # -- reading and preparing -------------------------------------------------------------
    def _read(self, series: _Series) -> None:
        series.reading = True
        path = self.runs[series.run_id].path
        key = series.key

        def done(result, error):
            if self.series.get((series.run_id, key)) is not series:
                return  # dropped meanwhile
            series.reading = False
            if error is not None:
                self.failed.emit(f"Could not read {key!r} of run {series.run_id[:8]}: {error}")
                return
            series.buffer = SeriesBuffer(result.steps, result.timestamps, result.values)
            series.position = result.position
            series.version += 1
            self._prepare(series)
            self._x_changed(series)

        self._submit(lambda: read_metric(path, key, 0), done)

    def _prepare(self, series: _Series) -> None:
        if series.preparing or series.buffer is None:
            return
        x_source = self._x_source(series)
        if x_source is False:
            return  # the x metric's first read is under way: prepared when it is back
        x_version = x_source.version if x_source is not None else 0
        settings = self.settings_for(series.key)
        if series.shown == (series.version, settings, x_version):
            return
        series.preparing = True
        buffer = series.buffer
        # Views of the filled prefix: later appends write past them (see SeriesBuffer).
        steps, timestamps, values = buffer.steps, buffer.timestamps, buffer.values
        x_series = None
        if x_source is not None and x_source.buffer is not None:
            b = x_source.buffer
            x_series = (b.steps, b.timestamps, b.values)
        version = series.version
        run = self.runs.get(series.run_id)
        start_ms = run.info.start_time if run is not None else 0

        def done(prepared, error):
            series.preparing = False
            if self.series.get((series.run_id, series.key)) is not series:
                return
            if error is not None:
                self.failed.emit(f"Could not draw {series.key!r}: {error}")
                return
            if settings == self.settings_for(series.key):
                series.shown = (version, settings, x_version)
                self.series_ready.emit(series.run_id, series.key, prepared)
            self._prepare(series)  # newer points or settings arrived meanwhile

        self._submit(lambda: prepare(steps, timestamps, values, settings, start_ms, x_series), done)

    def _x_source(self, series: _Series):
        """The series of the x metric (None: x is step or time, or the run lacks that
        metric; False: its first read is still under way, started here if need be)."""
        key = x_metric_key(self.settings.x_axis)
        run = self.runs.get(series.run_id)
        if key is None or run is None or key not in run.data.metrics:
            return None
        if key == series.key:
            return series
        source = self.series.get((series.run_id, key))
        if source is None:
            self.want(series.run_id, key)
            source = self.series.get((series.run_id, key))
        return source if source is not None and source.buffer is not None else False

    def _x_changed(self, series: _Series) -> None:
        """The series is some run's x metric: the run's other series are joined to it again."""
        if x_metric_key(self.settings.x_axis) != series.key:
            return
        for (rid, key), other in list(self.series.items()):
            if rid == series.run_id and other is not series:
                self._prepare(other)

    def _submit(self, fn, done) -> None:
        """Run ``fn`` on the worker; ``done(result, error)`` follows on the GUI thread."""
        self.worker.submit(fn, on_done=lambda result: done(result, None), on_error=lambda e: done(None, e))

    def memory_bytes(self) -> int:
        return sum(s.buffer.nbytes for s in self.series.values() if s.buffer is not None)

    def shutdown(self) -> None:
        self.timer.stop()
        self.worker.stop(drain=False)

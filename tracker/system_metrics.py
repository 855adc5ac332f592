"""System metrics: CPU, memory, disk, network (and NVIDIA GPUs) sampled while a run is active.

A ``SystemMetricsMonitor`` samples from a daemon thread every ``sampling_interval`` seconds and,
every ``samples_before_logging`` samples, logs their mean through the run's writer under
MLflow's names (``system/cpu_utilization_percentage``, ...) at steps 0, 1, 2, ... (continuing
after the last ``system/`` step of a resumed run). It stops when ``stop`` is called or the run
ends. Byte counters (network, disk I/O) count from the monitor's start, as MLflow's do.
``stop`` (called by ``end_run`` before the run ends) logs the samples not yet logged plus one
taken then, so a run shorter than one interval still gets a point; MLflow logs none for it.

Whether ``start_run`` starts one: its ``log_system_metrics`` argument when given, else
``enable_system_metrics_logging()`` / ``disable_system_metrics_logging()`` when called, else the
environment (``TRACKER_LOG_SYSTEM_METRICS=1`` or ``MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true``).
The flag is this module's own: enabling it does not change ``os.environ``.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from typing import Any

_logger = logging.getLogger(__name__)

PREFIX = "system/"
ENABLE_ENV = ("TRACKER_LOG_SYSTEM_METRICS", "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
INTERVAL_ENV = "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL"
SAMPLES_ENV = "MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING"
DEFAULT_INTERVAL = 10.0
_MB = 1e6

_enabled: bool | None = None  # None: decided by the environment
# set_system_metrics_*: None leaves the choice to the environment, then to the caller's argument
_settings: dict[str, Any] = {"interval": None, "samples": None, "node_id": None}
NODE_ID_ENV = "MLFLOW_SYSTEM_METRICS_NODE_ID"
_monitors: dict[str, "SystemMetricsMonitor"] = {}  # run id -> its running monitor
_monitors_lock = threading.Lock()


def enable_system_metrics_logging() -> None:
    """Log system metrics for every run started from now on (``start_run(log_system_metrics=False)`` opts out)."""
    global _enabled
    _enabled = True


def disable_system_metrics_logging() -> None:
    """Log system metrics only for runs started with ``log_system_metrics=True``."""
    global _enabled
    _enabled = False


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Sample every ``interval`` seconds in monitors started from now on (None: the default, 10)."""
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))
                                 or not interval > 0):
        raise ValueError(f"interval must be a number of seconds greater than 0, got {interval!r}")
    _settings["interval"] = interval


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """Log the mean of every ``samples`` samples (None: the default, 1)."""
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise ValueError(f"samples must be an integer of at least 1, got {samples!r}")
    _settings["samples"] = samples


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Name this machine in the keys (``system/<node_id>/cpu_utilization_percentage``), for
    training spread over several machines; None: no node in the keys."""
    if node_id is not None and (not isinstance(node_id, str) or not node_id or "/" in node_id):
        raise ValueError(f"node_id must be a non-empty string without '/', got {node_id!r}")
    _settings["node_id"] = node_id


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def is_enabled() -> bool:
    if _enabled is not None:
        return _enabled
    return any(_env_true(name) for name in ENABLE_ENV)


def should_log(log_system_metrics: bool | None) -> bool:
    """``start_run``'s decision: its argument when given, else the global setting."""
    return bool(log_system_metrics) if log_system_metrics is not None else is_enabled()


def _env_number(name: str, kind: type, default: Any) -> Any:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a {kind.__name__}") from None
    if value <= 0:
        raise ValueError(f"{name}={text!r} must be greater than 0")
    return value


# -- samplers: each adds its readings to a dict of lists ---------------------------------------
class _Samplers:
    def __init__(self) -> None:
        import psutil
        self._psutil = psutil
        self._process = psutil.Process()
        # CPU use is measured between this monitor's own readings of the CPU times:
        # psutil.cpu_percent() keeps one module-wide previous reading, which the host's own
        # calls (and a second monitor) would move under us, and theirs under them.
        self._cpu_before = psutil.cpu_times()
        net = psutil.net_io_counters()
        self._net_start = (net.bytes_recv, net.bytes_sent) if net is not None else None
        disk = psutil.disk_io_counters()
        self._disk_start = (disk.read_bytes, disk.write_bytes) if disk is not None else None
        self._gpus = _nvidia_handles()

    def sample(self, into: dict[str, list[float]]) -> None:
        ps = self._psutil
        busy = self._cpu_busy_percentage()
        if busy is not None:
            into["cpu_utilization_percentage"].append(busy)
        memory = ps.virtual_memory()
        into["system_memory_usage_megabytes"].append(memory.used / _MB)
        into["system_memory_usage_percentage"].append(memory.used / memory.total * 100)
        try:
            into["process_memory_usage_megabytes"].append(self._process.memory_info().rss / _MB)
        except ps.Error:
            pass
        disk = ps.disk_usage(os.sep)
        into["disk_usage_percentage"].append(disk.percent)
        into["disk_usage_megabytes"].append(disk.used / _MB)
        into["disk_available_megabytes"].append(disk.free / _MB)
        io = ps.disk_io_counters() if self._disk_start else None
        if io is not None:
            into["disk_read_megabytes"].append((io.read_bytes - self._disk_start[0]) / _MB)
            into["disk_write_megabytes"].append((io.write_bytes - self._disk_start[1]) / _MB)
        net = ps.net_io_counters() if self._net_start else None
        if net is not None:
            into["network_receive_megabytes"].append((net.bytes_recv - self._net_start[0]) / _MB)
            into["network_transmit_megabytes"].append((net.bytes_sent - self._net_start[1]) / _MB)
        for i, handle in enumerate(self._gpus):
            _sample_gpu(i, handle, into)

    def close(self) -> None:
        """Release NVML (its init is counted: each monitor's init has its shutdown)."""
        if self._gpus:
            self._gpus = []
            try:
                import pynvml
                pynvml.nvmlShutdown()
            except Exception:  # noqa: BLE001 - the driver went away: nothing to release
                pass

    def _cpu_busy_percentage(self) -> float | None:
        """The share of the machine's CPU time spent busy since the last reading (None: no time passed)."""
        before, after = self._cpu_before, self._psutil.cpu_times()
        self._cpu_before = after
        total = _cpu_total(after) - _cpu_total(before)
        idle = _cpu_idle(after) - _cpu_idle(before)
        if total <= 0:
            return None
        return min(100.0, max(0.0, (total - idle) / total * 100))


# Counters since the start are reported as their latest value, not averaged.
_CUMULATIVE = ("network_receive_megabytes", "network_transmit_megabytes", "disk_read_megabytes",
               "disk_write_megabytes")


def _cpu_total(times: Any) -> float:
    # guest time is already counted in user time on Linux (as psutil does, not twice)
    return sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def _cpu_idle(times: Any) -> float:
    return times.idle + getattr(times, "iowait", 0.0)


def _nvidia_handles() -> list[Any]:
    """NVML device handles when ``nvidia-ml-py`` is installed and a GPU answers; else none."""
    try:
        import pynvml
        pynvml.nvmlInit()
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # noqa: BLE001 - no package, no driver or no GPU: no GPU metrics
        return []


def _sample_gpu(i: int, handle: Any, into: dict[str, list[float]]) -> None:
    import pynvml
    try:
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        into[f"gpu_{i}_memory_usage_percentage"].append(memory.used / memory.total * 100)
        into[f"gpu_{i}_memory_usage_megabytes"].append(memory.used / _MB)
    except pynvml.NVMLError:
        pass
    try:
        into[f"gpu_{i}_utilization_percentage"].append(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:
        pass
    try:
        power = pynvml.nvmlDeviceGetPowerUsage(handle)
        limit = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle)
        into[f"gpu_{i}_power_usage_watts"].append(power / 1000)
        into[f"gpu_{i}_power_usage_percentage"].append(power / limit * 100)
    except (pynvml.NVMLError, ZeroDivisionError):
        pass
    try:  # (MLflow logs no temperature: named like its other GPU keys)
        into[f"gpu_{i}_temperature_celsius"].append(
            pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU))
    except pynvml.NVMLError:
        pass


def _aggregate(samples: dict[str, list[float]]) -> dict[str, float]:
    return {key: (values[-1] if key in _CUMULATIVE else round(sum(values) / len(values), 1))
            for key, values in samples.items() if values}


class SystemMetricsMonitor:
    """Samples system metrics from a background thread and logs them to one run.

    ``writer`` is the run's ``tracker.writer.RunWriter``; by default the active run's writer
    with ``run_id``. As in MLflow, ``set_system_metrics_*`` and then the environment
    (``MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL``, ``MLFLOW_SYSTEM_METRICS_SAMPLES_BEFORE_LOGGING``,
    ``MLFLOW_SYSTEM_METRICS_NODE_ID``) override the arguments.
    """

    def __init__(self, run_id: str, sampling_interval: float = DEFAULT_INTERVAL,
                 samples_before_logging: int = 1, node_id: str | None = None, *, writer: Any = None) -> None:
        self.sampling_interval = float(_settings["interval"] or _env_number(INTERVAL_ENV, float, sampling_interval))
        self.samples_before_logging = int(_settings["samples"] or _env_number(SAMPLES_ENV, int, samples_before_logging))
        node_id = _settings["node_id"] or os.environ.get(NODE_ID_ENV) or node_id
        self.prefix = PREFIX + (f"{node_id}/" if node_id else "")
        if self.sampling_interval <= 0 or self.samples_before_logging < 1:
            raise ValueError("sampling_interval must be > 0 and samples_before_logging >= 1")
        self.writer = writer if writer is not None else _active_writer(run_id)
        self.run_id = run_id
        self._samplers = _Samplers()
        self._step = _next_step(self.writer, self.prefix)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._monitor, daemon=True,
                                        name=f"SystemMetricsMonitor-{self.run_id[:8]}")
        self._thread.start()

    def finish(self, timeout: float | None = 5.0) -> None:
        """Stop sampling and wait for the thread (MLflow's name for it)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    stop = finish

    def _running(self) -> bool:
        return not self._stop.is_set() and not self.writer.closed

    def _monitor(self) -> None:
        try:
            self._sample_until_stopped()
        finally:
            self._samplers.close()

    def _sample_until_stopped(self) -> None:
        while self._running():
            samples: dict[str, list[float]] = defaultdict(list)
            for _ in range(self.samples_before_logging):
                # wait first: CPU utilisation is measured since the previous reading, and a
                # reading taken just after the samplers start covers no time (psutil gives 0.0)
                if self._stop.wait(self.sampling_interval):
                    self._final(samples)
                    return
                if not self._running():
                    return
                try:
                    self._samplers.sample(samples)
                except Exception as e:  # noqa: BLE001 - a sampler that fails must not kill the run
                    _logger.warning("tracker: system metrics sampling failed: %s", e)
                    return
            self.publish(_aggregate(samples))

    def _final(self, samples: dict[str, list[float]]) -> None:
        """Stopped before the run ends: log what was sampled since the last log plus a sample
        taken now, so a run shorter than one interval still gets a point (MLflow logs none)."""
        if self.writer.closed:
            return
        try:
            self._samplers.sample(samples)
        except Exception as e:  # noqa: BLE001
            _logger.warning("tracker: system metrics sampling failed: %s", e)
            return
        self.publish(_aggregate(samples))

    def publish(self, metrics: dict[str, float]) -> None:
        try:
            for key, value in metrics.items():
                self.writer.log_metric(self.prefix + key, value, self._step)
        except Exception as e:  # noqa: BLE001 - e.g. the run ended meanwhile
            _logger.debug("tracker: system metrics not logged: %s", e)
            self._stop.set()
            return
        self._step += 1


def _active_writer(run_id: str) -> Any:
    from . import fluent
    for writer in list(fluent._stack):
        if writer.run_id == run_id:
            return writer
    raise ValueError(f"run {run_id!r} is not active in this process; pass writer=")


def _next_step(writer: Any, prefix: str) -> int:
    steps = [int(s["last_step"]) for key, s in writer.document.metrics.items() if key.startswith(prefix)]
    return max(steps) + 1 if steps else 0


def start(writer: Any, interval: float | None = None,
          samples_before_logging: int | None = None) -> SystemMetricsMonitor:
    """Start logging system metrics to ``writer``'s run (one monitor per run; a second call returns it)."""
    with _monitors_lock:
        monitor = _monitors.get(writer.run_id)
        if monitor is not None and monitor._running():
            return monitor
        monitor = SystemMetricsMonitor(
            writer.run_id, DEFAULT_INTERVAL if interval is None else interval,
            1 if samples_before_logging is None else samples_before_logging, writer=writer)
        _monitors[writer.run_id] = monitor
    monitor.start()
    return monitor


def stop(writer: Any) -> None:
    """Stop the monitor of ``writer``'s run, if any; call before ending the run."""
    with _monitors_lock:
        monitor = _monitors.pop(writer.run_id, None)
    if monitor is not None:
        monitor.finish()


def _forget_parent_monitors() -> None:
    """A forked child has none of its parent's threads: their monitors are the parent's."""
    global _monitors_lock
    _monitors.clear()
    _monitors_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_monitors)

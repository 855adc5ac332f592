"""System metrics: sampled in the background under MLflow's names, stopped with the run."""
import collections
import time

import pytest

import tracker
from tracker import fluent, store, system_metrics

MLFLOW_KEYS = {f"system/{k}" for k in (
    "cpu_utilization_percentage", "system_memory_usage_megabytes", "system_memory_usage_percentage",
    "disk_usage_percentage", "disk_usage_megabytes", "disk_available_megabytes",
    "network_receive_megabytes", "network_transmit_megabytes")}


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def logged_keys(writer):
    return {key for key, state in writer._keys.items() if state.next_step > 0}


@pytest.fixture(autouse=True)
def global_setting(monkeypatch):
    for name in (*system_metrics.ENABLE_ENV, system_metrics.INTERVAL_ENV, system_metrics.SAMPLES_ENV):
        monkeypatch.delenv(name, raising=False)
    yield
    system_metrics._enabled = None
    system_metrics._settings.update(interval=None, samples=None, node_id=None)


def test_a_monitor_logs_mlflows_system_keys_at_steps_from_zero(tracking_dir):
    with tracker.start_run() as run:
        writer = fluent._current()
        system_metrics.start(writer, interval=0.02)
        wait_for(lambda: MLFLOW_KEYS <= logged_keys(writer) and writer._keys[
            "system/cpu_utilization_percentage"].next_step >= 3)
        system_metrics.stop(writer)
    history = tracker.Client().get_metric_history(run.info.run_id, "system/system_memory_usage_percentage")
    assert [m.step for m in history] == list(range(len(history))) and len(history) >= 3
    assert all(0 < m.value <= 100 for m in history)
    metrics = store.read_run(store.run_dir(tracking_dir, run.info.run_id)).data.metrics
    assert MLFLOW_KEYS | {"system/process_memory_usage_megabytes"} <= set(metrics)
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100
    assert metrics["system/disk_available_megabytes"] > 0
    assert not any(key.startswith("system/gpu_") for key in metrics)  # no NVML on this machine


def test_the_monitor_stops_by_itself_when_the_run_ends(tracking_dir):
    tracker.start_run()
    monitor = system_metrics.start(fluent._current(), interval=0.02)
    wait_for(lambda: monitor._step >= 1)
    tracker.end_run()
    wait_for(lambda: not monitor._thread.is_alive())


def test_a_resumed_run_continues_its_system_metric_steps(tracking_dir):
    with tracker.start_run() as run:
        writer = fluent._current()
        monitor = system_metrics.start(writer, interval=0.01, samples_before_logging=3)
        wait_for(lambda: monitor._step >= 2)
        system_metrics.stop(writer)
    last = monitor._step - 1
    with tracker.start_run(run_id=run.info.run_id):
        monitor = system_metrics.start(fluent._current(), interval=0.01)
        wait_for(lambda: monitor._step >= last + 2)
        system_metrics.stop(fluent._current())
    steps = [m.step for m in tracker.Client().get_metric_history(run.info.run_id, "system/disk_usage_percentage")]
    assert steps == list(range(len(steps)))


def test_the_environment_and_enable_disable_decide_as_in_mlflow(monkeypatch):
    assert not system_metrics.should_log(None)
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "true")
    assert system_metrics.should_log(None) and not system_metrics.should_log(False)
    monkeypatch.delenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
    monkeypatch.setenv("TRACKER_LOG_SYSTEM_METRICS", "1")
    assert system_metrics.should_log(None)
    tracker.disable_system_metrics_logging()
    assert not system_metrics.should_log(None) and system_metrics.should_log(True)
    tracker.enable_system_metrics_logging()
    assert system_metrics.should_log(None)


def test_the_sampling_interval_environment_variable_wins(monkeypatch, tracking_dir):
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "0.5")
    with tracker.start_run() as run:
        monitor = system_metrics.SystemMetricsMonitor(run.info.run_id, sampling_interval=10)
    assert monitor.sampling_interval == 0.5
    monkeypatch.setenv("MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL", "soon")
    with pytest.raises(ValueError, match="MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL"):
        system_metrics.SystemMetricsMonitor("x", writer=object())


def test_mlflows_documented_flow_enable_then_start_run_logs_system_metrics(tracking_dir):
    tracker.enable_system_metrics_logging()
    tracker.set_system_metrics_sampling_interval(0.02)
    with tracker.start_run() as run:
        writer = fluent._current()
        wait_for(lambda: MLFLOW_KEYS <= logged_keys(writer))
    metrics = tracker.Client().get_run(run.info.run_id).data.metrics
    assert MLFLOW_KEYS <= set(metrics)
    assert system_metrics._monitors == {}  # stopped with the run
    with tracker.start_run(log_system_metrics=False) as run:
        pass
    assert tracker.Client().get_run(run.info.run_id).data.metrics == {}


def test_a_node_id_goes_into_the_keys(tracking_dir):
    tracker.set_system_metrics_node_id("node_0")
    tracker.set_system_metrics_sampling_interval(0.02)
    with pytest.raises(ValueError):
        tracker.set_system_metrics_sampling_interval(0)
    with tracker.start_run(log_system_metrics=True):
        tracker.set_system_metrics_node_id(None)  # a monitor already started keeps its node
        writer = fluent._current()
        wait_for(lambda: "system/node_0/cpu_utilization_percentage" in logged_keys(writer))


def test_a_run_shorter_than_the_interval_still_gets_one_point(tracking_dir):
    with tracker.start_run(log_system_metrics=True) as run:  # the default interval: 10 s
        pass
    metrics = tracker.Client().get_run(run.info.run_id).data.metrics
    # CPU use needs CPU time to pass between two readings (a kernel tick, 10 ms): a run this short
    # may have none to report, rather than a made-up 0 %
    assert MLFLOW_KEYS - {"system/cpu_utilization_percentage"} <= set(metrics)
    history = tracker.Client().get_metric_history(run.info.run_id, "system/system_memory_usage_megabytes")
    assert [m.step for m in history] == [0]


def test_cpu_use_is_measured_between_the_monitors_own_readings(tracking_dir):
    """The host's own psutil.cpu_percent() calls do not move the monitor's measurement, nor it theirs."""
    import psutil
    from tracker.system_metrics import _Samplers
    samplers = _Samplers()
    psutil.cpu_percent()  # the host measures too
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # a core busy between the monitor's readings
        sum(i * i for i in range(1000))
    psutil.cpu_percent()  # ...and takes a reading just before the monitor's
    samples = collections.defaultdict(list)
    samplers.sample(samples)
    assert samples["cpu_utilization_percentage"][0] > 0

"""System metrics of a real run: MLflow's keys after a few seconds at a short interval, NVML's keys only with a
GPU (absent without one, no error), a cost under 1 % of a core at the default interval, stopped with the run."""
import collections
import os
import subprocess
import sys
import textwrap
import time
import types

from tracker import Client, system_metrics

MLFLOW_KEYS = {f"system/{k}" for k in (
    "cpu_utilization_percentage", "system_memory_usage_megabytes", "system_memory_usage_percentage",
    "disk_usage_percentage", "disk_usage_megabytes", "disk_available_megabytes",
    "network_receive_megabytes", "network_transmit_megabytes")}

SCRIPT = textwrap.dedent("""
    import threading, tracker
    from tracker import system_metrics
    tracker.set_system_metrics_sampling_interval(0.1)
    with tracker.start_run(log_system_metrics=True) as run:
        monitor = system_metrics._monitors[run.info.run_id]
        while monitor._step < 5:  # work until five samples are logged
            sum(range(10000))
    alive = [t.name for t in threading.enumerate() if t.name.startswith("SystemMetricsMonitor") and t.is_alive()]
    print(run.info.run_id, alive)
""")


def test_a_run_with_a_short_interval_has_mlflows_keys_and_the_sampling_stops_with_it(tracking_dir):
    env = {**os.environ, "TRACKER_DIR": str(tracking_dir)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run_id, alive = done.stdout.split(maxsplit=1)
    assert alive.strip() == "[]"  # the sampling thread ended with the run
    run = Client(tracking_dir).get_run(run_id)
    assert MLFLOW_KEYS | {"system/process_memory_usage_megabytes"} <= set(run.data.metrics)
    assert not any(key.startswith("system/gpu_") for key in run.data.metrics)  # no GPU here: no keys, no error
    history = Client(tracking_dir).get_metric_history(run_id, "system/cpu_utilization_percentage")
    assert len(history) >= 5 and [m.step for m in history] == list(range(len(history)))
    assert all(0 <= m.value <= 100 for m in history)


def fake_nvml(gpus=1, init_error=False):
    """A stand-in for nvidia-ml-py's ``pynvml`` module, answering as one GPU would."""
    nvml = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    def init():
        if init_error:
            raise NVMLError("NVML Shared Library Not Found")
        nvml.inits += 1

    def shutdown():
        nvml.shutdowns += 1

    nvml.inits = nvml.shutdowns = 0
    nvml.NVMLError, nvml.NVML_TEMPERATURE_GPU = NVMLError, 0
    nvml.nvmlInit, nvml.nvmlShutdown = init, shutdown
    nvml.nvmlDeviceGetCount = lambda: gpus
    nvml.nvmlDeviceGetHandleByIndex = lambda i: f"gpu{i}"
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=4e9, total=16e9)
    nvml.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=37)
    nvml.nvmlDeviceGetPowerUsage = lambda h: 150_000  # milliwatts
    nvml.nvmlDeviceGetEnforcedPowerLimit = lambda h: 300_000
    nvml.nvmlDeviceGetTemperature = lambda h, sensor: 65
    return nvml


def test_nvml_gives_each_gpus_keys_as_mlflow_names_them(monkeypatch):
    nvml = fake_nvml(gpus=2)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    samplers = system_metrics._Samplers()
    samples = collections.defaultdict(list)
    samplers.sample(samples)
    got = system_metrics._aggregate(samples)
    for i in (0, 1):
        assert got[f"gpu_{i}_memory_usage_percentage"] == 25.0 and got[f"gpu_{i}_memory_usage_megabytes"] == 4000.0
        assert got[f"gpu_{i}_utilization_percentage"] == 37 and got[f"gpu_{i}_power_usage_watts"] == 150.0
        assert got[f"gpu_{i}_power_usage_percentage"] == 50.0 and got[f"gpu_{i}_temperature_celsius"] == 65
    samplers.close()
    assert (nvml.inits, nvml.shutdowns) == (1, 1)


def test_without_a_gpu_or_its_driver_there_are_no_gpu_keys_and_no_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(init_error=True))
    samples = collections.defaultdict(list)
    system_metrics._Samplers().sample(samples)
    assert samples and not any(key.startswith("gpu_") for key in samples)


def test_one_sample_costs_under_one_percent_of_a_core_at_the_default_interval():
    samplers = system_metrics._Samplers()
    samples = collections.defaultdict(list)
    start = time.thread_time()
    for _ in range(20):
        samplers.sample(samples)
    per_sample = (time.thread_time() - start) / 20
    assert per_sample < 0.01 * system_metrics.DEFAULT_INTERVAL, per_sample

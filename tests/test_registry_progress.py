"""``register_model(..., progress=)``: the registry reports its copy as it goes, and a progress
callback that raises abandons the registration before anything is numbered."""
from __future__ import annotations

import pytest

import tracker
from tracker.registry.lineage import find_origin, identifying_file
from tracker.registry.storage import validate_source

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "model"
    (d / "sub").mkdir(parents=True)
    (d / "weights.bin").write_bytes(b"w" * (3 << 20) + b"tail")
    (d / "sub" / "config.json").write_text('{"a": 1}')
    (d / "notes.txt").write_text("")
    return d


def test_progress_grows_to_the_total_of_every_file_copied(tracking_dir, folder):
    seen: list[tuple[int, int]] = []
    mv = tracker.Client().register_model(folder, "m", progress=lambda done, total: seen.append((done, total)))
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert seen[0] == (0, total)
    assert seen[-1] == (total, total)
    assert len(seen) >= 4  # several MiB: reported as the copy goes, not only at the ends
    assert all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))
    assert all(done <= t == total for done, t in seen)
    assert mv.version == 1


def test_the_fluent_call_and_create_model_version_report_progress_too(tracking_dir, tmp_path):
    source = tmp_path / "w.bin"
    source.write_bytes(b"x" * 10)
    seen: list[tuple[int, int]] = []
    tracker.register_model(source, "m", progress=lambda *a: seen.append(a))
    tracker.Client().create_model_version("m", source, progress=lambda *a: seen.append(a))
    assert seen == [(0, 10), (10, 10)] * 2


def test_a_progress_callback_that_raises_abandons_the_registration(tracking_dir, folder):
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        if done > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        tracker.Client().register_model(folder, "m", progress=cancel)
    assert tracker.Client().search_model_versions() == []
    assert not any((tracking_dir / "registry" / ".tmp").iterdir())
    assert tracker.Client().register_model(folder, "m").version == 1  # no number was used up


def test_the_identifying_file_is_the_largest_one_but_the_manifest(tracking_dir, folder):
    files = validate_source(folder, "model")
    assert identifying_file(files)[1] == "weights.bin"
    with tracker.start_run() as run:
        tracker.log_artifact(str(folder / "weights.bin"), "model")
    origin = find_origin(tracking_dir, folder, files)
    assert (origin.run_id, origin.artifact_path, origin.link) == (run.info.run_id, "model/weights.bin", "sha256")
    assert not (tracking_dir / "registry.db").exists()  # answered from the runs alone: no registry created
    mv = tracker.Client().register_model(folder, "m")
    assert (mv.run_id, mv.run_link) == (run.info.run_id, "sha256")

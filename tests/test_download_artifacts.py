"""tracker.artifacts.download_artifacts, as mlflow.artifacts.download_artifacts."""
from pathlib import Path

import pytest

import tracker
from tracker.artifacts import download_artifacts


@pytest.fixture
def run_id():
    with tracker.start_run() as run:
        tracker.log_text("hello", "notes/a.txt")
        tracker.log_dict({"k": 1}, "config.json")
    return run.info.run_id


def test_a_file_a_folder_or_the_whole_run_is_copied_into_dst_path(run_id, tmp_path):
    path = download_artifacts(run_id=run_id, artifact_path="notes/a.txt", dst_path=tmp_path / "one")
    assert Path(path) == tmp_path / "one" / "a.txt" and Path(path).read_text() == "hello"
    path = download_artifacts(artifact_uri=f"runs:/{run_id}/notes", dst_path=tmp_path / "two")
    assert Path(path) == tmp_path / "two" / "notes" and (Path(path) / "a.txt").read_text() == "hello"
    path = download_artifacts(run_id=run_id, dst_path=tmp_path / "all")
    assert Path(path) == tmp_path / "all"
    copied = {p.relative_to(path).as_posix() for p in Path(path).rglob("*")}
    assert {"config.json", "notes", "notes/a.txt"} <= copied  # beside what start_run records itself


def test_without_dst_path_a_new_temp_directory_is_used(run_id):
    path = Path(download_artifacts(run_id=run_id, artifact_path="config.json"))
    assert path.name == "config.json" and path.read_text() == '{\n  "k": 1\n}'


def test_mlflows_argument_errors_and_paths_outside_the_run(run_id, tmp_path):
    dst = tmp_path / "dst"
    with pytest.raises(ValueError, match="Exactly one of"):
        download_artifacts()
    with pytest.raises(ValueError, match="Exactly one of"):
        download_artifacts(artifact_uri=f"runs:/{run_id}/x", run_id=run_id)
    with pytest.raises(ValueError, match="cannot be specified"):
        download_artifacts(artifact_uri=f"runs:/{run_id}", artifact_path="x")
    with pytest.raises(ValueError):
        download_artifacts(run_id=run_id, artifact_path="../run.json", dst_path=dst)
    with pytest.raises(FileNotFoundError):
        download_artifacts(run_id=run_id, artifact_path="missing.txt", dst_path=dst)
    with pytest.raises(LookupError):
        download_artifacts(run_id="0" * 32, dst_path=dst)
    assert not dst.exists()

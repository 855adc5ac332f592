"""log_image, log_table and load_table, as MLflow 3 documents them."""
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracker
from tracker import images, store


def artifacts_of(run_id):
    return Path(store.run_dir(tracker.get_tracking_dir(), run_id)) / store.ARTIFACTS_DIR


def decode_png(data: bytes) -> np.ndarray:
    """A PNG decoder for what encode_png writes (8-bit, no interlace, filter 0), read by the spec."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, *_ = header
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    assert depth == 8 and not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


def test_a_numpy_image_is_saved_as_the_png_artifact_named(tracking_dir):
    pixels = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    with tracker.start_run() as run:
        tracker.log_image(pixels, "plots/sample.png")
    data = (artifacts_of(run.info.run_id) / "plots" / "sample.png").read_bytes()
    np.testing.assert_array_equal(decode_png(data), pixels)
    Image = pytest.importorskip("PIL.Image")  # and a real decoder agrees
    import io
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)


def test_numpy_images_need_no_pillow(monkeypatch, tracking_dir):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `import PIL` now raises ImportError
    gray = np.array([[0.0, 0.5], [1.0, 0.25]])
    with tracker.start_run() as run:
        tracker.log_image(gray, "gray.png")
        tracker.log_image(gray, key="steps", step=2)
        with pytest.raises(ValueError, match="Pillow"):
            tracker.log_image(gray, "gray.jpg")
    folder = artifacts_of(run.info.run_id)
    np.testing.assert_array_equal(decode_png((folder / "gray.png").read_bytes())[:, :, 0], [[0, 127], [255, 63]])
    [stepped] = list((folder / "images").iterdir())
    assert stepped.name.endswith(".png")  # no WebP preview without Pillow


def test_pixel_values_follow_mlflows_rules_and_a_bad_image_writes_nothing(tracking_dir):
    assert images.to_uint8(np.array([[0.0, 1.0]])).tolist() == [[0, 255]]
    assert images.to_uint8(np.array([[True, False]])).tolist() == [[255, 0]]
    with pytest.warns(UserWarning, match="Rescaling"):
        assert images.to_uint8(np.array([[-1.0, 1.0]])).tolist() == [[0, 255]]
    for bad, error in ((np.array([[0, 256]]), ValueError), (np.zeros((2, 2, 2, 2)), ValueError),
                       (np.zeros((2, 2, 5)), ValueError), (np.array([["a"]]), TypeError), ("img", TypeError)):
        with pytest.raises(error):
            tracker.log_image(bad, "bad.png")
    assert tracker.active_run() is None and not list(Path(tracking_dir).glob("*/run.json"))


def test_the_key_and_step_form_uses_mlflows_file_names_and_tags_the_run(tracking_dir):
    pytest.importorskip("PIL")
    pixels = np.zeros((300, 600, 4), dtype=np.uint8)
    with tracker.start_run() as run:
        tracker.log_image(pixels, key="val/samples", step=3, timestamp=1700000000000)
        tracker.log_image(pixels, key="val/samples")
    files = sorted(p.name for p in (artifacts_of(run.info.run_id) / "images").iterdir())
    assert len(files) == 4
    stem = "val~samples+step+3+timestamp+1700000000000+"
    assert any(f.startswith(stem) and f.endswith("+compressed.webp") for f in files)
    assert any(f.startswith(stem) and f.endswith(".png") and "compressed" not in f for f in files)
    assert any(f.startswith("val~samples+step+0+timestamp+") for f in files)
    from PIL import Image
    preview = next(p for p in (artifacts_of(run.info.run_id) / "images").iterdir() if p.name.endswith(".webp"))
    assert Image.open(preview).size == (256, 128)
    assert tracker.last_active_run().data.tags["mlflow.loggedImages"] == "True"


def test_log_image_refuses_mlflows_wrong_argument_combinations():
    pixels = np.zeros((2, 2), dtype=np.uint8)
    with pytest.raises(TypeError, match="cannot be used in conjunction"):
        tracker.log_image(pixels, "a.png", key="k")
    with pytest.raises(TypeError, match="exactly one of"):
        tracker.log_image(pixels)
    with pytest.raises(ValueError, match="invalid characters"):
        tracker.log_image(pixels, key="bad:key")


def test_log_table_writes_mlflows_split_json_and_appends_rows(tracking_dir):
    with tracker.start_run() as run:
        tracker.log_table({"inputs": ["a", "b"], "score": [0.5, 1.0]}, "eval/results.json")
        tracker.log_table(pd.DataFrame({"inputs": ["c"], "score": [2.0]}), "eval/results.json")
    doc = json.loads((artifacts_of(run.info.run_id) / "eval" / "results.json").read_text())
    assert doc == {"columns": ["inputs", "score"], "data": [["a", 0.5], ["b", 1.0], ["c", 2.0]]}
    tag = json.loads(tracker.last_active_run().data.tags["mlflow.loggedArtifacts"])
    assert tag == [{"path": "eval/results.json", "type": "table"}]


def test_log_table_refuses_what_mlflow_refuses():
    for name in ("a,b.json", "table.csv"):
        with pytest.raises(ValueError):
            tracker.log_table({"a": [1]}, name)
    with pytest.raises(TypeError):
        tracker.log_table([1, 2], "t.json")
    assert tracker.active_run() is None


def test_load_table_joins_the_runs_that_logged_it_with_extra_columns(tracking_dir):
    ids = []
    for value in (1, 2):
        with tracker.start_run() as run:
            tracker.log_table({"x": [value, value * 10]}, "t.json")
        ids.append(run.info.run_id)
    with tracker.start_run():
        tracker.log_text("no table here", "other.txt")
    table = tracker.load_table("t.json", extra_columns=["run_id"])
    assert sorted(table["x"]) == [1, 2, 10, 20]
    assert dict(zip(table["x"], table["run_id"])) == {1: ids[0], 10: ids[0], 2: ids[1], 20: ids[1]}
    only_first = tracker.load_table("t.json", run_ids=[ids[0]])
    assert only_first["x"].tolist() == [1, 10]
    with pytest.raises(LookupError):
        tracker.load_table("missing.json")


def test_log_table_to_a_finished_run_appends_and_keeps_its_status(tracking_dir):
    with tracker.start_run() as run:
        tracker.log_table({"x": [1]}, "t.json")
    tracker.tables.log_table({"x": [2]}, "t.json", run_id=run.info.run_id)
    assert tracker.load_table("t.json", run_ids=[run.info.run_id])["x"].tolist() == [1, 2]
    after = store.read_run(store.run_dir(tracking_dir, run.info.run_id)).info
    assert (after.status, after.end_time) == ("FINISHED", tracker.last_active_run().info.end_time)

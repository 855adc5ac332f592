"""Artifact previews: what is read, how much, and how it is shown (no Qt needed)."""
from __future__ import annotations

import json

from app.details import preview
from app.common.formatting import argv_text, format_duration, format_number
from app.details.preview import load_preview


def test_json_is_pretty_printed(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"b": [1, 2], "é": "ü"}), encoding="utf-8")
    shown = load_preview(path)
    assert shown.kind == "json"
    assert shown.text == '{\n  "b": [\n    1,\n    2\n  ],\n  "é": "ü"\n}'


def test_invalid_json_falls_back_to_text_with_a_note(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{oops", encoding="utf-8")
    shown = load_preview(path)
    assert shown.kind == "text" and "Not valid JSON" in shown.note


def test_csv_and_tsv_become_rows(tmp_path):
    (tmp_path / "a.csv").write_text('x,y\n1,"two, three"\n4\n', encoding="utf-8")
    shown = load_preview(tmp_path / "a.csv")
    assert shown.kind == "table"
    assert shown.rows == [["x", "y"], ["1", "two, three"], ["4", ""]]
    (tmp_path / "b.tsv").write_text("x\ty\n1\t2\n", encoding="utf-8")
    assert load_preview(tmp_path / "b.tsv").rows == [["x", "y"], ["1", "2"]]


def test_big_text_is_cut_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "MAX_TEXT_BYTES", 1000)
    path = tmp_path / "log.txt"
    path.write_text("é" * 5000, encoding="utf-8")  # 2-byte characters: the cut lands inside one
    shown = load_preview(path)
    assert shown.kind == "text"
    assert len(shown.text) == 500
    assert "Showing the first" in shown.note


def test_big_csv_keeps_only_whole_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(preview, "MAX_TEXT_BYTES", 100)
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(1000)), encoding="utf-8")
    shown = load_preview(path)
    assert shown.kind == "table"
    assert all(len(row) == 2 and row[1] for row in shown.rows)
    assert shown.note


def test_yaml_diff_binary_images_and_folders(tmp_path):
    (tmp_path / "c.yaml").write_text("a: 1\n", encoding="utf-8")
    assert load_preview(tmp_path / "c.yaml").kind == "yaml"
    (tmp_path / "d.patch").write_text("+x\n", encoding="utf-8")
    assert load_preview(tmp_path / "d.patch").kind == "diff"
    (tmp_path / "model.bin").write_bytes(b"\x00\x01\x02" * 10)
    shown = load_preview(tmp_path / "model.bin")
    assert shown.kind == "message" and "Binary" in shown.text
    (tmp_path / "p.png").write_bytes(b"\x89PNG")
    assert load_preview(tmp_path / "p.png").kind == "image"
    assert load_preview(tmp_path).kind == "message"
    assert load_preview(tmp_path / "missing.txt").kind == "message"


def test_formatting():
    assert format_number(0.912345) == "0.9123"
    assert format_number(12345.6) == "12346"
    assert format_number(3.0) == "3"
    assert format_number(1.5e-7) == "1.500e-07"
    assert format_number(float("nan")) == "NaN"
    assert format_duration(12_345) == "12.3 s"
    assert format_duration(3_723_000) == "1h 02m"
    assert format_duration(None) == ""
    assert argv_text({"tracker.source.argv": json.dumps(["train.py", "--name", "a b"])}) == \
        "train.py --name 'a b'"

"""Documents (``run.json`` first) decode as json decodes them, an integer beyond 64 bits as the nearest float."""
import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from tracker.store.atomic import decode_json, read_json
from tracker.store.rundoc import RunDocument
from tracker.store.rundoc_check import RunDocumentError

_SCALARS = (st.none() | st.booleans() | st.text() | st.floats(allow_nan=True, allow_infinity=True)
            | st.integers(min_value=-(10 ** 40), max_value=10 ** 40) | st.integers()
            | st.sampled_from(["\ud800", "\udfff x", "é", "\x00", 10 ** 400]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _as_decoded(v):
    """json's value with integers beyond 64 bits as floats, where they fit one."""
    if isinstance(v, dict):
        return {k: _as_decoded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_as_decoded(x) for x in v]
    if type(v) is int and not -2 ** 63 <= v < 2 ** 64:
        try:
            return float(v)
        except OverflowError:
            return v
    return v


def _types(v):
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    return type(v).__name__


def _same(a, b) -> bool:
    """Equal, with NaN equal to NaN and an int never equal to a float."""
    return json.dumps(a) == json.dumps(b) and _types(a) == _types(b)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.booleans())
def test_a_document_decodes_to_what_json_makes_of_it(value, ascii_only):
    data = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(data.decode("utf-8"))
    except ValueError as e:
        with pytest.raises(type(e)):
            decode_json(data)
        return
    assert _same(decode_json(data), _as_decoded(expected))


def test_what_orjson_refuses_reads_as_json_reads_it(tmp_path):
    path = tmp_path / "doc.json"
    path.write_bytes(b'{"nan": NaN, "inf": -Infinity, "top": 18446744073709551615, "low": -9223372036854775808, '
                     b'"huge": 1' + b"0" * 400 + b', "s": "\\ud800"}')
    doc = read_json(path)
    assert math.isnan(doc["nan"]) and doc["inf"] == -math.inf
    assert doc["top"] == 2 ** 64 - 1 and doc["low"] == -2 ** 63
    assert doc["huge"] == 10 ** 400 and doc["s"] == "\ud800"


def test_what_json_refuses_is_refused_the_same_way():
    for data in (b"", b"{", b"\xef\xbb\xbf{}", b'{"a": 1} x', b"\xff\xfe", b'{"a": "\x01"}'):
        with pytest.raises(ValueError) as expected:
            json.loads(data.decode("utf-8"))
        with pytest.raises(expected.type):
            decode_json(data)


def test_a_run_document_with_an_integer_beyond_64_bits(tmp_path):
    run = tmp_path / ("ab" * 16)
    run.mkdir()
    doc = {"format_version": 1, "info": {"run_id": "ab" * 16, "run_name": "r", "experiment": "e",
                                         "status": "FINISHED", "start_time": 1},
           "params": {}, "tags": {}, "metrics": {"m": {"last": 1, "min": 1, "max": 1, "count": 1, "last_step": 0,
                                                     "last_timestamp": 1}}}
    (run / "run.json").write_text(json.dumps(doc).replace('"last": 1,', '"last": 123456789012345678901234567890,'))
    assert RunDocument.read(run).metrics["m"]["last"] == float(123456789012345678901234567890)
    (run / "run.json").write_text(json.dumps(doc).replace('"start_time": 1', '"start_time": ' + "9" * 25))
    with pytest.raises(RunDocumentError, match="info.start_time"):
        RunDocument.read(run)

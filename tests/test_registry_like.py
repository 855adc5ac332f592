"""The registry's LIKE is linear-time too: a pathological pattern on a long name returns at once."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from registry_backends import registry_backend  # noqa: F401 - every test, on both backends

pytestmark = pytest.mark.usefixtures("registry_backend")


def test_registry_like_with_many_wildcards_on_a_long_name_returns(tmp_path):
    # In a child process with a deadline: a backtracking match holds the GIL and cannot be abandoned.
    script = textwrap.dedent(f"""
        import tracker
        tracker.set_tracking_dir({str(tmp_path / "runs")!r})
        source = {str(tmp_path / "w.bin")!r}
        open(source, "wb").write(b"weights")
        client = tracker.Client()
        client.register_model(source, "a" * 250)
        client.register_model(source, "ab")
        found = client.search_registered_models("name LIKE '%a%a%a%a%a%a%a%b'")
        print(sorted(m.name for m in found))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # 'ab' has too few a's; 250 a's has no b

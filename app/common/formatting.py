"""How values read on screen: times, durations, numbers, sizes. Plain functions, no Qt."""
from __future__ import annotations

import json
import math
import shlex
import time
from datetime import datetime

COMMIT_TAG = "tracker.source.git.commit"
BRANCH_TAG = "tracker.source.git.branch"
DIRTY_TAG = "tracker.source.git.dirty"
REPO_TAG = "tracker.source.git.repoURL"
DIFF_TAG = "tracker.source.git.diff"
SOURCE_TAG = "tracker.source.name"
ARGV_TAG = "tracker.source.argv"
HOST_TAG = "tracker.host"
USER_TAG = "tracker.user"
SYSTEM_TAG_PREFIXES = ("tracker.", "mlflow.")  # what the library (or MLflow) records itself


def is_system_tag(key: str) -> bool:
    return key.startswith(SYSTEM_TAG_PREFIXES)


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags a person set, without the ones the tracker (or MLflow) records itself."""
    return {key: value for key, value in tags.items() if not is_system_tag(key)}


def format_time(ms: int | None, seconds: bool = False) -> str:
    """Local time, e.g. "2025-11-26 09:28" (with ":13" seconds when asked)."""
    if not ms:
        return ""
    try:
        moment = datetime.fromtimestamp(ms / 1000)
    except (OverflowError, OSError, ValueError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_duration(ms: int | float | None) -> str:
    """"420 ms", "12.3 s", "4m 05s", "2h 03m", "3d 04h"."""
    if ms is None or ms < 0:
        return ""
    if ms < 1000:
        return f"{int(ms)} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    s = int(s)
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def elapsed_ms(start_ms: int, now_ms: float | None = None) -> float:
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    return max(0.0, now_ms - start_ms)


def format_number(value: float | None) -> str:
    """About four significant digits, no exponent between 1e-3 and 1e6, no trailing zeros."""
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    magnitude = abs(value)
    if value == int(value) and magnitude < 1e9:
        return str(int(value))
    if magnitude < 1e-3 or magnitude >= 1e6:
        return f"{value:.3e}"
    decimals = max(0, 4 - (math.floor(math.log10(magnitude)) + 1))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def format_size(size: int | None) -> str:
    """The app's one way to show a size, in binary units: "1 byte", "812 bytes", "3.1 KiB",
    "256 KiB", "12 MiB" (one decimal below 10 of a unit)."""
    if size is None or size < 0:
        return ""
    if size < 1024:
        return "1 byte" if size == 1 else f"{int(size)} bytes"
    value = float(size)
    for unit in _SIZE_UNITS:
        value /= 1024
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            shown = f"{value:.1f}"
            if float(shown) >= 10:
                shown = f"{value:.0f}"
            if shown == "1024":  # rounding up to the next unit: 1023.6 KiB reads 1.0 MiB
                continue
            return f"{shown} {unit}"
    return ""


def to_number(text: str) -> float | None:
    """A param's value as a number when it reads as one, else None."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def short_commit(commit: str | None) -> str:
    return (commit or "")[:7]


def argv_text(tags: dict[str, str]) -> str:
    """The command line from the ``tracker.source.argv`` tag (a JSON list), shell-quoted."""
    raw = tags.get(ARGV_TAG)
    if not raw:
        return ""
    try:
        argv = json.loads(raw)
    except ValueError:
        return raw
    return shlex.join(str(a) for a in argv) if isinstance(argv, list) else str(argv)

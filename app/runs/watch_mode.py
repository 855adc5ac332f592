"""How often a runs folder that sends no file events is polled, and how the watching is put to the user.

A folder on a network file system (NFS, SMB, sshfs...) gets inotify events only for changes made
on this machine, so the app reads it every ``poll_interval()`` seconds instead: the interval a
caller passes, else ``TRACKER_POLL_INTERVAL``, else Preferences (QSettings ``SETTINGS_KEY``),
else DEFAULT_SECONDS. Light on purpose (no watchdog): the window imports it at start-up.
"""
from __future__ import annotations

import math
import os

DEFAULT_SECONDS = 2.0
MIN_SECONDS = 0.1  # a faster poll reads a folder of thousands of runs over the network all the time
MAX_SECONDS = 600.0
ENV = "TRACKER_POLL_INTERVAL"
SETTINGS_KEY = "watching/poll_interval_seconds"

# What app/runs/watcher.py says when it polls, and the few words the status bar gives for each.
NETWORK_REASON = "is on a network file system"
ASKED_REASON = "polling was asked for"
ENV_REASON = "TRACKER_POLLING is set"


def parse_seconds(value: object) -> float | None:
    """A poll interval from text or a number, clamped to [MIN_SECONDS, MAX_SECONDS]; None when it is none."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(max(seconds, MIN_SECONDS), MAX_SECONDS)


def env_seconds() -> float | None:
    """``TRACKER_POLL_INTERVAL`` as seconds, or None when unset or not a positive number."""
    return parse_seconds(os.environ.get(ENV, "").strip() or None)


def saved_seconds() -> float | None:
    """The interval Preferences saved, or None."""
    from app.shell.settings import Settings
    return parse_seconds(Settings().get_json(SETTINGS_KEY))


def poll_interval(explicit: float | None = None) -> float:
    """The interval to poll with: ``explicit``, else the environment's, else the saved one, else the default."""
    for seconds in (parse_seconds(explicit) if explicit is not None else None, env_seconds(), saved_seconds()):
        if seconds is not None:
            return seconds
    return DEFAULT_SECONDS


def format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def describe(mode: str, seconds: float) -> tuple[str, str]:
    """The status bar's words for a watch ``mode`` ("inotify" or "polling (why)") and its tooltip;
    ("", "") when file events arrive (nothing to tell)."""
    if not mode.startswith("polling"):
        return "", ""
    reason = mode[len("polling ("):-1] if mode.startswith("polling (") else ""
    if reason.startswith("MLflow store"):
        return "", ""  # the store label already says the app only reads it, and polls it
    if NETWORK_REASON in reason:
        cause = "network folder"
        why = "Changes made on other machines send no file events, so the folder is read again"
    elif ENV_REASON in reason or ASKED_REASON in reason:
        cause = "as asked"
        why = "The folder is read again"
    else:
        cause = "no file events"
        why = "File events are not available here, so the folder is read again"
    every = format_seconds(seconds)
    where = f"{ENV} sets it" if env_seconds() is not None else "change it in Preferences"
    tooltip = f"{reason[:1].upper()}{reason[1:]}.\n{why} every {every} ({where})."
    return f"Watching by polling every {every} ({cause})", tooltip

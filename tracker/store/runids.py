"""New run ids, claimed so that no two writers get the same one, on one machine or many.

An id is 128 bits from ``uuid4`` (122 of them from ``os.urandom``, the kernel's random source,
which forked processes and machines booted from one image do not share): a collision is not
expected in any folder's lifetime. Creation does not rely on that alone, since a runs folder on
NFS or SMB is written by many machines at once: a writer claims its id with ``os.mkdir`` of the
staging folder (``.tmp-<id>``), which the file server makes fail when the name exists, and checks
that no run or deleted run has the id; the final rename onto ``<id>`` fails too when a run of
that id is there (a run folder is never empty). Either way the writer draws a new id and tries again.
"""
from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

from . import layout

ATTEMPTS = 16  # a 17th id taken in a row would mean a broken random source, not bad luck


class RunIdsExhausted(RuntimeError):
    """Every id drawn was taken: the random source repeats itself."""


def new_run_id() -> str:
    """A fresh run id: 32 lowercase hex digits."""
    return uuid.uuid4().hex


def _taken(root: Path, run_id: str) -> bool:
    return (os.path.lexists(layout.run_dir(root, run_id))
            or os.path.lexists(os.path.join(root, layout.TRASH_DIR, run_id)))


def claim_staging(root: str | os.PathLike) -> tuple[str, Path]:
    """A new run id and its staging folder, made by this call and by no one else.

    Raises RunIdsExhausted after ATTEMPTS ids in a row were taken, OSError when the folder
    cannot be made (a read-only or missing root).
    """
    root = Path(root)
    for _ in range(ATTEMPTS):
        run_id = new_run_id()
        staging = layout.staging_dir(root, run_id)
        try:
            os.mkdir(staging)
        except FileExistsError:
            continue  # another writer is creating a run of this id
        if _taken(root, run_id):
            os.rmdir(staging)
            continue
        return run_id, staging
    raise RunIdsExhausted(f"{ATTEMPTS} new run ids in a row were already taken in {root}: "
                          "the random source (os.urandom) repeats itself")


def publish(staging: Path, final: Path) -> bool:
    """Rename a built run into place; False (and nothing moved) when a run of that id is already there."""
    try:
        os.rename(staging, final)
    except OSError as e:
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return False
        raise
    return True

"""Writing a file so that it is either the whole new content or the old one, never half of each.

The new content goes to a temporary ``<name>.<random>.backprop-lens.part`` beside the target and is
renamed over it only when complete. Any exception, including KeyboardInterrupt and SystemExit,
removes the temporary file. A process killed outright (SIGKILL, or SIGTERM without a handler)
cannot clean up, so :func:`remove_stale_parts` removes such leftovers on the next start.
"""
from __future__ import annotations

import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

#: Every temporary file this app writes ends so (the name says whose it is, so that the clean-up
#: never touches another program's ``.part`` files, such as a browser's unfinished downloads).
PART_SUFFIX = ".backprop-lens.part"
#: A temporary file older than this (seconds) belongs to a write that no longer runs.
STALE_AFTER_S = 60.0


@contextmanager
def atomic_write(path, mode: str = "wb", **open_kwargs):
    """Open a temporary file beside ``path`` for writing; on success it is synced and renamed onto
    ``path``, on any error (or interrupt) it is removed and ``path`` is left as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=PART_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_parts(folder, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Remove this app's temporary ``*.backprop-lens.part`` files in ``folder`` last modified more
    than ``older_than`` seconds ago (left by a process that was killed mid-write); return them.

    Younger ones are kept: another instance may be writing them right now. A folder that does
    not exist or cannot be listed, and files that cannot be removed, are skipped: a leftover
    costs disk space only, never correctness, so start-up must not fail over it.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if (entry.name.endswith(PART_SUFFIX) and entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > older_than):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed

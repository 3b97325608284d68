"""glibc allocator tuning for the console process, plus malloc figures for benchmarks.

Why: a 720p YUV420P frame is ~1.4 MB. glibc serves blocks above M_MMAP_THRESHOLD (128 KiB)
with their own mmap, but after the FIRST such block is freed it raises the threshold
dynamically (up to 32 MiB on 64-bit) and serves every later frame-sized block from the heap
arenas of whichever thread asks (decoder, codec pool, media loop, GUI). Measured in a 720p
two-way call (bench/bench_media_call.py): the heap held ~75-140 MiB of free-but-resident
memory and RSS grew in multi-MB steps at random minutes (+7 to +17 MiB over 10 minutes).
Setting the threshold explicitly also switches the dynamic adjustment off, so frame-sized
blocks always get their own mapping and go straight back to the system when freed: the heap
stays ~23 MiB and RSS ~60 MiB lower. The price is page faults on every such block, which is why
the frame paths reuse their buffers (`OutgoingFramePool`, the render ring in
`console.models.video_feed`); see docs/performance.md, Media.

Everything here is a no-op where glibc is absent (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

_log = logging.getLogger(__name__)

# mallopt() parameter numbers from glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

DISABLE_ENV = "SC_MALLOC_TUNING"  # "off" skips the tuning (field diagnosis, A/B benchmarks)
_OFF_VALUES = frozenset({"off", "0", "no", "false"})


@dataclass(frozen=True)
class AllocatorTuning:
    """Allocator settings in bytes (arena_max: a count); None leaves glibc's default alone."""

    # Below a 360p frame (~340 KB), far below a 720p one (~1.4 MB): every video frame buffer is
    # its own mapping. Python's small objects (pymalloc) and RTP packets stay on the heap.
    mmap_threshold: int | None = 256 * 1024
    # Hand a free heap top back once 1 MiB is unused; glibc would otherwise let this follow the
    # dynamic threshold up to 64 MiB.
    trim_threshold: int | None = 1024 * 1024
    arena_max: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllocatorTuning:
        """From `mmap=262144,trim=1048576,arenas=2` (benchmarks); `none` sets nothing."""
        values: dict[str, int] = {}
        for part in (piece.strip() for piece in text.split(",")):
            if part in {"", "none"}:
                continue
            key, sep, value = part.partition("=")
            if not sep or key not in {"mmap", "trim", "arenas"}:
                raise ValueError(f"unknown allocator setting {part!r} (use mmap, trim, arenas)")
            values[key] = int(value)
        return cls(
            mmap_threshold=values.get("mmap"),
            trim_threshold=values.get("trim"),
            arena_max=values.get("arenas"),
        )


class Libc(Protocol):
    """The slice of glibc this module calls (a ctypes CDLL, or a fake in tests)."""

    def mallopt(self, param: int, value: int) -> int: ...

    def malloc_trim(self, pad: int) -> int: ...


@dataclass(frozen=True)
class MallocStats:
    """A summary of glibc's mallinfo2() over all arenas, in bytes."""

    heap_bytes: int  # arena: bytes the heaps took from the system (brk + arena mappings)
    in_use_bytes: int  # uordblks: heap bytes handed out and not yet freed
    free_held_bytes: int  # fordblks: heap bytes free but still held (fragmentation shows here)
    mmapped_bytes: int  # hblkhd: bytes in blocks that have their own mapping
    mmapped_blocks: int  # hblks


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_lock = threading.Lock()
_applied: AllocatorTuning | None = None


def load_glibc() -> ctypes.CDLL | None:
    """The process's glibc, or None when the C library is something else (or missing)."""
    name, _version = platform.libc_ver()
    if name != "glibc":
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def apply_tuning(libc: Libc, tuning: AllocatorTuning) -> bool:
    """Call mallopt() for every setting `tuning` gives; True when glibc accepted them all."""
    settings = (
        (M_MMAP_THRESHOLD, tuning.mmap_threshold),
        (M_TRIM_THRESHOLD, tuning.trim_threshold),
        (M_ARENA_MAX, tuning.arena_max),
    )
    # mallopt() returns 1 on success and 0 on error.
    refused = [
        param for param, value in settings if value is not None and not libc.mallopt(param, value)
    ]
    if refused:
        _log.warning("mallopt refused parameters %s of %s", refused, tuning)
    return not refused


def tune_allocator(
    tuning: AllocatorTuning | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Tune this process's glibc malloc once; True when a tuning is (or already was) in force.

    Without glibc, or with SC_MALLOC_TUNING=off, nothing changes and the result is False.
    Safe to call from several places (console start-up, the media thread): the first wins.
    """
    global _applied
    env = os.environ if environ is None else environ
    if env.get(DISABLE_ENV, "").strip().lower() in _OFF_VALUES:
        _log.info("malloc tuning skipped (%s=%s)", DISABLE_ENV, env[DISABLE_ENV])
        return False
    with _lock:
        if _applied is not None:
            return True
        libc = load_glibc()
        if libc is None:
            _log.debug("malloc tuning skipped: the C library is not glibc")
            return False
        tuning = tuning or AllocatorTuning()
        if not apply_tuning(libc, tuning):
            return False
        _applied = tuning
    _log.info("malloc tuned: %s", tuning)
    return True


def applied_tuning() -> AllocatorTuning | None:
    """The tuning in force in this process (None if `tune_allocator` never succeeded)."""
    with _lock:
        return _applied


def trim_heap(libc: Libc | None = None) -> bool:
    """Give free heap pages back to the system (malloc_trim(0)); False without glibc."""
    c_library = libc if libc is not None else load_glibc()
    if c_library is None:
        return False
    c_library.malloc_trim(0)  # returns whether memory was released; either is fine
    return True


def malloc_stats(libc: ctypes.CDLL | None = None) -> MallocStats | None:
    """glibc's allocator figures (mallinfo2, glibc >= 2.33), or None where unavailable."""
    c_library = libc if libc is not None else load_glibc()
    mallinfo2 = getattr(c_library, "mallinfo2", None)
    if mallinfo2 is None:
        return None
    mallinfo2.restype = _MallInfo2
    mallinfo2.argtypes = []
    info = mallinfo2()
    return MallocStats(
        heap_bytes=info.arena,
        in_use_bytes=info.uordblks,
        free_held_bytes=info.fordblks,
        mmapped_bytes=info.hblkhd,
        mmapped_blocks=info.hblks,
    )

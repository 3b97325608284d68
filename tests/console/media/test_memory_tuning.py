"""Allocator tuning: the right mallopt() calls, a real effect on glibc, a no-op without glibc."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from console.adapters import memory_tuning
from console.adapters.memory_tuning import (
    M_ARENA_MAX,
    M_MMAP_THRESHOLD,
    M_TRIM_THRESHOLD,
    AllocatorTuning,
    apply_tuning,
    malloc_stats,
    trim_heap,
    tune_allocator,
)

REPO = Path(__file__).resolve().parents[3]
ON_GLIBC = platform.libc_ver()[0] == "glibc"


class RecordingLibc:
    """A hand-written stand-in for glibc: records mallopt() calls, refuses the ones it is told."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.mallopt_calls: list[tuple[int, int]] = []
        self.trims: list[int] = []
        self._refuse = refuse or set()

    def mallopt(self, param: int, value: int) -> int:
        self.mallopt_calls.append((param, value))
        return 0 if param in self._refuse else 1

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1


def test_apply_sets_each_given_parameter_and_skips_the_rest() -> None:
    libc = RecordingLibc()

    assert apply_tuning(libc, AllocatorTuning(mmap_threshold=300_000, trim_threshold=None))
    assert libc.mallopt_calls == [(M_MMAP_THRESHOLD, 300_000)]

    libc = RecordingLibc()
    assert apply_tuning(libc, AllocatorTuning())
    assert libc.mallopt_calls == [(M_MMAP_THRESHOLD, 256 * 1024), (M_TRIM_THRESHOLD, 1024 * 1024)]


def test_a_refused_parameter_makes_the_tuning_fail() -> None:
    libc = RecordingLibc(refuse={M_ARENA_MAX})
    assert not apply_tuning(libc, AllocatorTuning(arena_max=2))
    assert (M_ARENA_MAX, 2) in libc.mallopt_calls


def test_parse_bench_spec() -> None:
    assert AllocatorTuning.parse("none") == AllocatorTuning(None, None, None)
    assert AllocatorTuning.parse("mmap=262144, arenas=2") == AllocatorTuning(262144, None, 2)
    with pytest.raises(ValueError, match="unknown allocator setting 'mmap'"):
        AllocatorTuning.parse("mmap")
    with pytest.raises(ValueError, match="unknown allocator setting 'heap=1'"):
        AllocatorTuning.parse("heap=1")


def test_without_glibc_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_tuning, "_applied", None)  # as in a fresh process
    monkeypatch.setattr(platform, "libc_ver", lambda *args, **kwargs: ("musl", "1.2"))

    assert memory_tuning.load_glibc() is None
    assert tune_allocator(environ={}) is False
    assert memory_tuning.applied_tuning() is None
    assert trim_heap() is False
    assert malloc_stats() is None


def test_switched_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_tuning, "_applied", None)
    assert tune_allocator(environ={"SC_MALLOC_TUNING": "off"}) is False
    assert memory_tuning.applied_tuning() is None


def test_trim_heap_calls_malloc_trim() -> None:
    libc = RecordingLibc()
    assert trim_heap(libc) is True
    assert libc.trims == [0]


# A fresh interpreter (the test process's allocator has a history of its own): free one big
# block, which makes glibc raise its dynamic mmap threshold above it, then ask for a 2 MiB
# block and report whether that one got its own mapping (mallinfo2's hblkhd grew by it).
PROBE = """
import ctypes, json, sys
from console.adapters.memory_tuning import load_glibc, malloc_stats, tune_allocator
libc = load_glibc()
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(4 * 2**20))
tuned = tune_allocator()
before = malloc_stats().mmapped_bytes
block = libc.malloc(2 * 2**20)
grown = malloc_stats().mmapped_bytes - before
libc.free(block)
print(json.dumps({"tuned": tuned, "mmapped_growth": grown}))
"""


def probe_allocator(tuning_env: str) -> dict[str, object]:
    env = {**os.environ, "SC_MALLOC_TUNING": tuning_env}
    env.pop("GLIBC_TUNABLES", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not ON_GLIBC, reason="the allocator tuning only exists on glibc")
def test_on_glibc_frame_sized_blocks_get_their_own_mapping_only_when_tuned() -> None:
    untuned = probe_allocator("off")
    tuned = probe_allocator("on")

    # The problem: glibc's dynamic threshold puts a frame-sized block on the heap.
    assert untuned == {"tuned": False, "mmapped_growth": 0}
    # The fix: with the threshold pinned it is mapped on its own and unmapped on free.
    assert tuned["tuned"] is True
    assert tuned["mmapped_growth"] >= 2 * 2**20

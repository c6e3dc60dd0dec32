"""Memory the process gives back: large buffers are returned to the system when freed.

Every password check allocates Argon2id's 19 MiB work area. glibc serves an allocation
that large with mmap and unmaps it on free, but after the first such free it raises its
mmap threshold above that size, so later hashes come from the heap of the thread that
ran them and stay resident: 20 MB or more per hashing thread, for the life of the worker.
Pinning the threshold keeps big buffers on mmap (measured in docs/performance.md).

The threshold is pinned well above the buffers every request allocates, below the hash's
work area. asyncio reads each socket into a fresh 256 KiB buffer (then shrinks it): at
glibc's default 128 KiB, each read of an HTTP request or of a database reply was an
mmap, an mremap and a munmap, with the page faults that come with them. That was 10% of
a PostgreSQL list request (docs/performance.md, "Where the time went").
"""

import ctypes
import ctypes.util
import gc

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
MMAP_THRESHOLD = 1024 * 1024  # 4 x asyncio's read buffer; 1/19 of Argon2id's work area
# Container objects allocated (net of those freed) before the cycle collector's youngest
# generation runs; Python's default is 700.
YOUNG_THRESHOLD = 20_000
# A request body this large is followed by a collection (see `after_large_body`).
LARGE_BODY_BYTES = 8 * 1024


def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold; False where the C library has no mallopt (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def collect_cycles_less_often() -> None:
    """Run the cycle collector's youngest generation after 20,000 new objects, not 700.

    Nearly everything a request allocates is freed by reference counting when the request
    ends, but 32 requests in flight hold several thousand objects between them. At 700,
    the collector ran after almost every request, walked those live objects and moved them
    to older generations, whose collections then walked them again: 5% of a PostgreSQL
    list request at 32 connections and 10% at 256. At 20,000 it runs a few times in 20 s
    of the same load, and the worker's peak RSS did not change (docs/performance.md).

    What a request leaves in a reference cycle now waits longer to be freed; see
    `after_large_body` for the one case where that is a lot of memory.
    """
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *older)


def after_large_body(received: int) -> None:
    """Collect the young generations after a request whose body was `received` bytes.

    An error raised while a request is handled leaves a cycle (the exception's traceback
    holds the frames, a frame holds the exception) that keeps those frames' locals alive,
    the request's body among them, until the collector runs. With 20,000 objects between
    collections, 450 malformed 1 MB JSON bodies took a worker from 118 to 532 MB. So a
    request that sent more than LARGE_BODY_BYTES (a todo is at most about 8 KiB; imports and abuse
    are larger) is followed by a collection of the two young generations: a few ms, paid
    only by such requests.
    """
    if received > LARGE_BODY_BYTES:
        gc.collect(1)

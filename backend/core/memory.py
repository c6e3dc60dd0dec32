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
# Request body bytes between two collections made for them (see BodyCollector).
BODY_BYTES_PER_COLLECTION = 4 * 1024 * 1024


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
    BodyCollector for the one case where that is a lot of memory.
    """
    _young, *older = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *older)


class BodyCollector:
    """Runs the two young generations once `budget` bytes of request bodies have come in.

    An error raised while a request is handled leaves a reference cycle (the exception's
    traceback holds the frames, a frame holds the exception) that keeps those frames'
    locals alive, the request's body among them, until the collector runs. Only container
    objects count towards its 20,000, not the bytes they hold: 450 malformed 1 MB JSON
    bodies, sent without a token, took a worker from 115 to 532 MB. Counting the bodies
    bounds what such cycles can hold to about the budget (and the text decoded from it),
    at one collection per `budget` bytes received, whoever sends them.

    Called once a request is over, its error handled: a collection while the error is
    still on its way out finds the cycle alive and moves it to the oldest generation.
    Large objects a request makes itself (a response, a batch of rows) are not counted;
    none of those outlives its request in a cycle that we know of.
    """

    def __init__(self, budget: int = BODY_BYTES_PER_COLLECTION) -> None:
        self.budget = budget
        self.received = 0  # since the last collection made here

    def after(self, received: int) -> None:
        self.received += received
        if self.received > self.budget:
            self.received = 0
            gc.collect(1)

"""Reading ahead on a second thread, so the site database is read while the county writes the previous batch."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(produce: Callable[[], Iterator[T]], depth: int = 2) -> Iterator[T]:
    """Items of produce(), made on a worker thread at most `depth` ahead of the consumer; its errors re-raised here.

    produce() runs wholly on the worker, so it must open its own SQLite connection there."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        # Every hand-over, the end and an error included, gives up once the consumer has gone, so that the worker
        # never waits forever on a full queue nobody reads.
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which decides what it means
            put(exc)

    worker = threading.Thread(target=work, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()

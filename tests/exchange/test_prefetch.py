"""Reading ahead: items in order, errors re-raised, and a consumer that stops early never waits on the worker."""

from __future__ import annotations

import threading

import pytest

from app.exchange.prefetch import read_ahead


def test_items_arrive_in_order():
    assert list(read_ahead(lambda: iter(range(100)), depth=2)) == list(range(100))


def test_an_error_on_the_worker_is_raised_to_the_consumer():
    def produce():
        yield 1
        raise ValueError("坏了")

    got = read_ahead(produce)
    assert next(got) == 1
    with pytest.raises(ValueError, match="坏了"):
        next(got)


@pytest.mark.parametrize("ending", ["end", "error"])
def test_stopping_early_returns_even_when_the_worker_holds_its_last_item(ending):
    exhausted = threading.Event()

    def produce():
        yield from range(3)
        # Every item is handed over and the queue is full: the worker now waits to hand over its end or its error.
        exhausted.set()
        if ending == "error":
            raise RuntimeError("late")

    done = threading.Event()

    def consume():
        got = read_ahead(produce, depth=2)
        next(got)
        exhausted.wait()
        got.close()
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert done.wait(60), "closing the reader hung on the worker"

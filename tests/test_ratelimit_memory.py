"""The in-memory rate-limit storage (`memory://`, the default of a one-process clinic):
limits' own counting, swept of expired entries by the requests themselves instead of by
a new timer thread 10 ms after every hit."""
import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from avycenna.ratelimit import MemoryStorage


def own_timers(storage):
    """Live timer threads that would sweep `storage` (limits starts one per hit)."""
    return [t for t in threading.enumerate()
            if isinstance(t, threading.Timer) and t.is_alive() and getattr(t.function, "__self__", None) is storage]


def test_memory_uri_gives_the_swept_storage_to_flask_limiter_too(app):
    from avycenna.ratelimit import limiter

    assert isinstance(storage_from_string("memory://"), MemoryStorage)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        assert isinstance(limiter.storage, MemoryStorage)


def test_hits_start_no_thread():
    storage = MemoryStorage()
    time.sleep(0.05)  # the one timer limits starts when the storage is made has run by now
    window = MovingWindowRateLimiter(storage)
    item = parse("1000/minute")
    for n in range(50):
        assert window.hit(item, "k", str(n % 3))
        assert own_timers(storage) == []
        if n % 10 == 0:
            time.sleep(0.015)  # past limits' 10 ms timer, which would have started another


def test_the_window_still_counts_and_refuses():
    window = MovingWindowRateLimiter(MemoryStorage())
    item = parse("2/second")
    assert window.hit(item, "k") and window.hit(item, "k")
    assert not window.hit(item, "k")
    assert window.get_window_stats(item, "k")[1] == 0
    time.sleep(1.05)
    assert window.hit(item, "k")


def test_expired_entries_are_swept_by_a_later_hit():
    storage = MemoryStorage()
    storage.SWEEP_EVERY = 0.0  # sweep on every hit, so the test need not wait a second more
    window = MovingWindowRateLimiter(storage)
    item = parse("5/second")
    window.hit(item, "gone")
    gone = item.key_for("gone")
    assert storage.events[gone]
    time.sleep(1.05)
    window.hit(item, "other")
    assert storage.events[gone] == []
    assert storage.events[item.key_for("other")]  # what is still counted stays


def test_sweeps_come_at_most_once_a_period():
    storage = MemoryStorage()
    window = MovingWindowRateLimiter(storage)
    item = parse("100/second")
    window.hit(item, "first")  # sweeps (the first is due), and sets the next one a second away
    due = storage._next_sweep
    window.hit(item, "second")
    assert storage._next_sweep == due


def test_concurrent_hits_while_sweeping_are_all_counted():
    storage = MemoryStorage()
    storage.SWEEP_EVERY = 0.0  # every hit sweeps, while the other threads hit
    window = MovingWindowRateLimiter(storage)
    item = parse("100000/minute")
    errors = []

    def hit(worker):
        try:
            for n in range(300):
                assert window.hit(item, f"key{(worker + n) % 20}")
        except Exception as error:  # surfaced below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=hit, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counted = sum(item.amount - window.get_window_stats(item, f"key{k}")[1] for k in range(20))
    assert counted == 6 * 300

"""Simulated time for code that runs on threads: one thread runs at a time, always the one whose clock is
earliest, so the DynamoDB calls of many concurrent requests reach the embedded DynamoDB in the order of their
simulated instants, however long each takes to compute for real.

Each actor (a thread started at its arrival instant) has its own clock; `wait` moves it on and lets whichever
actor is now earliest run. Nothing here sleeps for real.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Actor:
    time: float
    wake: threading.Event = field(default_factory=threading.Event)


class Simulation:
    def __init__(self) -> None:
        self._queue: list[tuple[float, int, Actor | None, Callable[[], None] | None]] = []
        self._order = itertools.count()  # ties run in the order they were queued
        self._local = threading.local()
        self._done = threading.Event()
        self.errors: list[BaseException] = []

    def actor(self) -> Actor | None:
        """The calling thread's actor (None: a thread outside the simulation)."""
        actor: Actor | None = getattr(self._local, "actor", None)
        return actor

    def start_at(self, time: float, work: Callable[[], None]) -> None:
        """Run `work` on a new actor from simulated `time` (before `run`)."""
        heapq.heappush(self._queue, (time, next(self._order), None, work))

    def wait(self, seconds: float = 0.0) -> None:
        """Move the calling actor's clock on by `seconds`, and continue once no other actor is earlier."""
        actor = self.actor()
        assert actor is not None, "only an actor waits in simulated time"
        actor.time += seconds
        heapq.heappush(self._queue, (actor.time, next(self._order), actor, None))
        self._hand_on()
        actor.wake.wait()
        actor.wake.clear()

    def run(self) -> None:
        """Run every queued actor to its end; re-raises the first error one met."""
        self._hand_on()
        self._done.wait()
        if self.errors:
            raise self.errors[0]

    def _hand_on(self) -> None:
        if not self._queue:
            self._done.set()
            return
        time, _, actor, work = heapq.heappop(self._queue)
        if actor is not None:
            actor.wake.set()
        else:
            assert work is not None
            threading.Thread(target=self._act, args=(time, work), daemon=True).start()

    def _act(self, time: float, work: Callable[[], None]) -> None:
        self._local.actor = Actor(time)
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by run(), on the caller's thread
            self.errors.append(exc)
        finally:
            self._local.actor = None
            self._hand_on()

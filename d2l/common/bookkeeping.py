"""Timer (section 3.1) and Accumulator (section 3.6): framework-neutral bookkeeping."""

import time

from . import checks


class Timer:
    """Record wall-clock intervals; the clock starts when the timer is created."""

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start (or restart) the clock."""
        self.tik = time.perf_counter()

    def stop(self):
        """Record and return the seconds since the last `start`."""
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self):
        """Mean of the recorded intervals; ZeroDivisionError while `times` is empty (the book's
        error, kept, with a message that says why)."""
        if not self.times:
            raise ZeroDivisionError("Timer.avg: no intervals recorded yet (times is empty); call "
                                    "stop() first")
        return sum(self.times) / len(self.times)

    def sum(self):
        """Total of the recorded intervals."""
        return sum(self.times)

    def cumsum(self):
        """Running totals of the recorded intervals, as a list of floats."""
        totals, running = [], 0.0
        for t in self.times:
            running += t
            totals.append(running)
        return totals


class Accumulator:
    """Keep `n` running sums; `add` converts each value with `float` (0-d tensors work)."""

    def __init__(self, n):
        checks.non_negative_int("Accumulator", "n", n)
        self.data = [0.0] * n

    def add(self, *args):
        """Add the i-th argument (a number or a one-element tensor) to the i-th sum; extra
        arguments are ignored, missing ones leave their sums unchanged."""
        for i, value in enumerate(args[: len(self.data)]):
            try:
                self.data[i] += float(value)
            except (TypeError, ValueError, RuntimeError) as error:
                raise ValueError(f"Accumulator.add: args[{i}] must be a number or a "
                                 f"one-element tensor, got {value!r}") from error

    def reset(self):
        """Set every sum back to zero."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

"""What the worker loop has done and how often it failed, per kind of work (issue 14): each
failure is logged with its traceback and its running count, and the counts stay readable
(`vigie worker` prints them when it stops), and counted in the Prometheus metrics as
well (`ui.metrics`: every process's passes add up at a scrape)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from ui.metrics import WORKER_FAILURES, WORKER_PASSES

# The kinds of work the loop does (`ui.worker.work`), each under a lease of its own.
POLICIES = "policies"  # the reactions that stay in the database
OUTBOX = "outbox"  # the due mails
DEADLINES = "deadlines"  # reminders, expiry, reviews due, retention, ended sessions purged
PROVISIONING = "provisioning"  # reactions that call the exam launcher, in their own thread
WEBHOOKS = "webhooks"  # the due webhook deliveries (issue 16), apart from the mails
LEASES = "leases"  # the lease rounds themselves (the store out of reach: they fail)


@dataclass
class WorkerHealth:
    """Counts per kind of work, safe to update from the loop's threads."""

    runs: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def ran(self, kind: str) -> None:
        WORKER_PASSES.labels(kind=kind).inc()
        with self._lock:
            self.runs[kind] += 1

    def failed(self, kind: str, error: BaseException) -> int:
        """Count one failure; returns how many of this kind so far (for the log line)."""
        WORKER_PASSES.labels(kind=kind).inc()
        WORKER_FAILURES.labels(kind=kind).inc()
        with self._lock:
            self.runs[kind] += 1
            self.failures[kind] += 1
            self.last_error[kind] = f"{type(error).__name__}: {error}"
            return self.failures[kind]

    def snapshot(self) -> dict[str, dict[str, int | str]]:
        """Per kind: runs, failures and the last error (plain data, for a status page)."""
        with self._lock:
            return {
                kind: {
                    "runs": self.runs[kind],
                    "failures": self.failures[kind],
                    "last_error": self.last_error.get(kind, ""),
                }
                for kind in sorted(self.runs)
            }

    def summary(self) -> str:
        parts = [
            f"{kind} {counts['runs']} run(s), {counts['failures']} failed"
            for kind, counts in self.snapshot().items()
        ]
        return "; ".join(parts) or "nothing run"


HEALTH = WorkerHealth()  # this process's worker loop

"""Stores opened at once on one PostgreSQL schema all open (issue 15): the library creates
its tables and functions at every opening, and two `CREATE OR REPLACE FUNCTION` at once
failed one of them with "tuple concurrently updated" (a test helper opening the store while
a served process started; a `vigie audit` run while a worker starts)."""

from __future__ import annotations

import threading

import pytest

from adapters.persistence.store import EventsourcingStore

pytestmark = pytest.mark.postgres

OPENINGS = 6


def open_at_once(url: str) -> tuple[list[EventsourcingStore], list[BaseException]]:
    """OPENINGS stores opened by as many threads let go at the same moment."""
    start = threading.Barrier(OPENINGS)
    lock = threading.Lock()
    opened: list[EventsourcingStore] = []
    failures: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            store = EventsourcingStore(url)
        except BaseException as error:  # collected, asserted by the test
            with lock:
                failures.append(error)
        else:
            with lock:
                opened.append(store)

    threads = [threading.Thread(target=open_one) for _ in range(OPENINGS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return opened, failures


def test_stores_opened_at_once_on_one_schema_all_open(postgres_url: str) -> None:
    for _ in range(3):  # each round opens the same tables again, all at once
        opened, failures = open_at_once(postgres_url)
        for store in opened:
            store.close()
        assert failures == [], failures
        assert len(opened) == OPENINGS

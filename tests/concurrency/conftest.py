"""The served-platform harness's fixtures (see served.py)."""

from tests.concurrency.served import served, smtp_counter

__all__ = ["served", "smtp_counter"]

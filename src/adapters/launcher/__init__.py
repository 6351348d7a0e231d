"""Exam launcher adapters."""

"""The pure domain: aggregates, events, the versioned rule set and the verdict function.

Nothing here reads a clock, draws a random number or does I/O: time and ids come in as
arguments, so replaying the log always rebuilds the same state.
"""

"""Adapters: what plugs into the application's ports from outside (persistence, clock, ids…)."""

"""One use case per command: load the aggregate, let it decide, save its events."""

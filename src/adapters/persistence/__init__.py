"""The event store: the eventsourcing library with msgspec encoding, on memory, SQLite or PostgreSQL."""

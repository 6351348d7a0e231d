"""The event store: eventsourcing with msgspec encoding, on memory, SQLite or PostgreSQL."""

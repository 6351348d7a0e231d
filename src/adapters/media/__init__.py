"""Media adapters."""

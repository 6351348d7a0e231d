"""The application layer: use cases, ports, policies, read models and the composition root."""

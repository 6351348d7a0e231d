"""Ports: small protocols the adapters implement. Errors live beside their port."""

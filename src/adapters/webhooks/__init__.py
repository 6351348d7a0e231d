"""Webhook posters: over HTTP (httpx), and in memory for the fast tests."""

"""Server-side sessions, failed log-ins and second factors (app.ports.sessions)."""

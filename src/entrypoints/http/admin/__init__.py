"""Staff endpoints under ``/admin`` (bearer token with a role)."""

"""Staff tokens for the admin API."""

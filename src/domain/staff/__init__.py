"""Staff members and their roles for the admin API."""

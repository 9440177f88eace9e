"""Stock per SKU and location, its movement ledger, and reservations with a time to live."""

"""Redis adapters: stock gate, cart hot copy, sessions, rate limits."""

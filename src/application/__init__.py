"""Use cases: commands, queries, handlers, ports and the message bus. No I/O technology here."""

"""The messaging plumbing every context shares, and which depends on none of them.

``bus`` (commands to handlers), ``consumers`` (outbox messages to idempotent consumers),
``relay`` (outbox to broker), ``codec`` (events and aggregates to JSON-ready builtins) and
``grouping`` (group commit). Which consumer reacts to which topic is wiring that names every
context, so it lives beside them in ``application/subscriptions.py``, not here.
"""

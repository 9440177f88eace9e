"""The flash-sale reservation path's SQL, used by ``PostgresStockRepository.lock_for_placement`` and
``save`` (``inventory``) and ``PostgresReservationRepository.add_many`` (``reservations``)."""

# The reservation hot path in hand-written SQL: one round trip to read and lock, and the writes
# staged (many rows in one JSON parameter) to travel with the COMMIT. See adapters.postgres.pipeline.
_POLICIES = """
SELECT sku, track_inventory, allow_backorder, low_stock_threshold, show_quantity
FROM inventory_policies WHERE sku = ANY(%b::text[])
"""
_LOCK = """
SELECT s.sku, s.location_id, s.on_hand, s.reserved, s.committed, s.version,
    coalesce(l.priority, 1000000) AS priority
FROM stock_items s LEFT JOIN inventory_locations l ON l.id = s.location_id
WHERE s.sku = ANY(%b::text[]) ORDER BY s.sku, s.location_id FOR UPDATE OF s
"""
# One probe of the active-reference unique index per reference. The plain "reference = ANY(...)
# AND status = 'active'" let the planner, misled by statistics a flash sale outruns, scan every
# active hold through the expiry index instead (measured: 15 ms per group at 47k holds, 0.3 ms
# this way); the LIMIT keeps the per-reference lookup from being flattened into that scan.
_HELD = """
SELECT held.reference FROM unnest(%b::text[]) AS wanted(reference)
CROSS JOIN LATERAL (
    SELECT reference FROM reservations WHERE reference = wanted.reference AND status = 'active' LIMIT 1
) AS held
"""
_SAVE_BALANCES = """
UPDATE stock_items AS s
SET on_hand = v.on_hand, reserved = v.reserved, committed = v.committed, version = v.version
FROM jsonb_to_recordset(%s::jsonb)
    AS v(sku text, location_id text, on_hand bigint, reserved bigint, committed bigint, version int)
WHERE s.sku = v.sku AND s.location_id = v.location_id
"""
_APPEND_MOVEMENTS = """
INSERT INTO stock_movements
    (sku, location_id, kind, on_hand_delta, reserved_delta, committed_delta, actor, reason, reference, occurred_at)
SELECT sku, location_id, kind, on_hand_delta, reserved_delta, committed_delta, actor, reason, reference, occurred_at
FROM jsonb_to_recordset(%s::jsonb) AS m(
    sku text, location_id text, kind text, on_hand_delta bigint, reserved_delta bigint, committed_delta bigint,
    actor text, reason text, reference text, occurred_at timestamptz)
"""
_ADD_RESERVATIONS = """
INSERT INTO reservations (id, reference, status, expires_at, created_at, version)
SELECT id, reference, status, expires_at, created_at, version
FROM jsonb_to_recordset(%s::jsonb)
    AS r(id text, reference text, status text, expires_at timestamptz, created_at timestamptz, version int)
"""
_ADD_RESERVATION_LINES = """
INSERT INTO reservation_lines (reservation_id, line_no, sku, location_id, quantity)
SELECT reservation_id, line_no, sku, location_id, quantity
FROM jsonb_to_recordset(%s::jsonb)
    AS l(reservation_id text, line_no int, sku text, location_id text, quantity bigint)
"""

# Closing a group of reservations (commit, release, ship …) in one round trip: the reservations
# locked first, then the stock rows their lines hold, in key order (as every other path locks them).
_LOCK_RESERVATIONS = """
SELECT id, reference, status, expires_at, created_at, version
FROM reservations WHERE id = ANY(%b::text[]) ORDER BY id FOR UPDATE
"""
_RESERVATION_LINES = """
SELECT reservation_id, sku, location_id, quantity
FROM reservation_lines WHERE reservation_id = ANY(%b::text[]) ORDER BY reservation_id, line_no
"""
# The reservations are locked by the statement before: their status read here is the one the
# group decides on. A reservation whose status is in its "unless" list needs no stock row.
_LOCK_HELD = """
SELECT s.sku, s.location_id, s.on_hand, s.reserved, s.committed, s.version
FROM stock_items s
WHERE (s.sku, s.location_id) IN (
    SELECT l.sku, l.location_id
    FROM jsonb_to_recordset(%s::jsonb) AS w(id text, unless text[])
    JOIN reservations r ON r.id = w.id
    JOIN reservation_lines l ON l.reservation_id = r.id
    WHERE r.status <> ALL(w.unless))
ORDER BY s.sku, s.location_id FOR UPDATE OF s
"""
_SAVE_RESERVATION = """
UPDATE reservations SET status = %s, expires_at = %s, version = %s WHERE id = %s
"""

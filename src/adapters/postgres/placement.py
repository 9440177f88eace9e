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

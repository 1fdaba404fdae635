-- The incremental daily per-pair aggregate: one row per (day, source, destination) with the day's label set as a
-- bitmask, so a day's candidates read 31 narrow integer partitions instead of exploding 31 days of label arrays.
-- Duplicate rows of a pair are unioned (the labels job unions a day's sets per pair); self-interactions are dropped
-- (docs/realgraph.md §2.1); an empty set still counts as an interaction day (BigQuery's left-join unnest keeps it).
WITH exploded AS (
    SELECT ds, source_id, destination_id,
           unnest(CASE WHEN len(labels) = 0 THEN [NULL::VARCHAR] ELSE labels END) AS name
    FROM interaction_graph_labels_daily
    WHERE ds = $ds AND source_id <> destination_id
)
SELECT e.ds, e.source_id, e.destination_id, coalesce(bit_or(b.bit), 0)::INTEGER AS label_mask
FROM exploded e LEFT JOIN label_bits b ON b.name = e.name
GROUP BY e.ds, e.source_id, e.destination_id

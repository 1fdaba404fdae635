-- docs/realgraph.md §1.5 (labeled_candidates.sql): day T's sampled candidates joined with day T+1's interactions; label = 1 iff
-- the pair's T+1 label set intersects $positive_mask (any label for prod, the explicit names for prod_explicit,
-- docs/realgraph.md §6.2). Pairs in the negative-edge snapshot are dropped. Deviation: we read the snapshot *of T+1* rather than
-- "whatever is newest", so a backfill of an old day never uses negative edges from its future. The rows keep rn:
-- the asset selects the stored table's columns from them.
WITH next_day AS (
    SELECT source_id, destination_id, label_mask FROM interaction_days WHERE ds = $ds::DATE + 1
),
negatives AS (
    SELECT source_id, destination_id FROM interaction_graph_agg_negative_edge_snapshot WHERE ds = $ds::DATE + 1
),
joined AS (
    SELECT s.*, CASE WHEN coalesce(n.label_mask, 0) & $positive_mask <> 0 THEN 1 ELSE 0 END AS label
    FROM candidates_sampled s
    LEFT JOIN next_day n ON n.source_id = s.source_id AND n.destination_id = s.destination_id
    WHERE s.ds = $ds
)
SELECT j.*
FROM joined j
ANTI JOIN negatives g ON g.source_id = j.source_id AND g.destination_id = j.destination_id

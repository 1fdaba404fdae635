"""Hand-made Real Graph raw logs for rule tests: every day gets filler rows so the existence checks pass, plus the
rows a test cares about."""

import datetime as dt

import pyarrow as pa

from feedtrain.partitions import days_between

FILLER = (900_000, 900_001)  # a pair that clicks every day and has a negative edge nowhere near the test pairs


def write_raw(h, first: dt.date, last: dt.date, interactions=(), follows=(), tweets=(), negatives=()):
    """interactions: (day, source, destination, [labels]); follows: (day, source, destination);
    tweets: (day, user_id); negatives: (day, source, destination, type)."""
    days = days_between(first, last)
    rows = {
        "interaction_graph_labels_daily": [(*FILLER, ["num_tweet_clicks"], d, d) for d in days]
        + [(s, t, labels, d, d) for d, s, t, labels in interactions],
        "valid_user_follows": [(*FILLER, d) for d in days] + [(s, t, d) for d, s, t in follows],
        "public_tweets": [(FILLER[1], 10**9 + i, d, d) for i, d in enumerate(days)]
        + [(u, 2 * 10**9 + i, d, d) for i, (d, u) in enumerate(tweets)],
        "interaction_graph_agg_negative_edge_snapshot": [(FILLER[1], FILLER[0], 0.0, "num_mutes", 1, d, d) for d in days]
        + [(s, t, 0.0, typ, 0, d, d) for d, s, t, typ in negatives],
    }
    for table, values in rows.items():
        with h.warehouse.connect() as conn:
            columns = [c for c, _ in conn.table_columns(table)]
        h.write_days(table, pa.table({c: [v[i] for v in values] for i, c in enumerate(columns)}))

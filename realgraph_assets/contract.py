"""The input contract of Real Graph's raw tables (docs/realgraph.md §2; twitter/the-algorithm `src/scala/com/twitter/interaction_graph`):
what every delivered day must look like, enforced at the door by ``feedtrain/ingest.py`` and documented in
``docs/input_contract.md`` (generated from this file)."""

from feedtrain.contract import DS, Column, Contract, Rule, Table, self_edge

from .labels import ALL_LABELS, NEGATIVE_TYPES, UNFOLLOW_MAX_AGE_DAYS, VARIANTS

LABELS_JOB = "twitter/the-algorithm src/scala/com/twitter/interaction_graph/scio/ml/labels/InteractionGraphLabelsJob.scala"
NEGATIVE_JOB = "twitter/the-algorithm src/scala/com/twitter/interaction_graph/scio/agg_negative/InteractionGraphNegativeJob.scala"
FOLLOW_SQL = "twitter/the-algorithm src/scala/com/twitter/interaction_graph/bqe/scoring/follow_graph_features.sql"


def _pair(what: str) -> tuple[Column, Column]:
    return (Column("source_id", "BIGINT", f"User A, who {what}.", is_id=True),
            Column("destination_id", "BIGINT", "User B.", is_id=True))


DATE_HOUR = Column("dateHour", "TIMESTAMP", "Partition timestamp: 00:00 UTC of the day.", start_of_day=True,
                   default="$ds::TIMESTAMP")

CONTRACT = Contract("realgraph", "1", notes=(
    "Only `interaction_graph_labels_daily` is required: a log of user-to-user interactions alone is a valid delivery "
    "(follow-based candidates, tweet counts and negative-edge filtering are then simply absent)."), tables=(
    Table("interaction_graph_labels_daily",
          "Per pair and day, the set of interaction types A did toward B (docs/realgraph.md §2.1).",
          (*_pair("interacted"),
           Column("labels", "VARCHAR[]", "The set of interaction type names A did toward B that day (non-empty).",
                  allowed=ALL_LABELS),
           DATE_HOUR, DS),
          key=("source_id", "destination_id"),
          rules=(Rule("empty_label_set", "len(labels) = 0", "a non-empty set of label names", source=LABELS_JOB),
                 self_edge(drop=True, source=f"self-interactions are dropped upstream ({LABELS_JOB})")),
          source=LABELS_JOB),
    Table("interaction_graph_agg_negative_edge_snapshot",
          "Negative edges (block, mute, report, recent unfollow) as of the end of the day (docs/realgraph.md §2.2).",
          (*_pair("did the negative action"),
           Column("weight", "DOUBLE", "Always 0.0.", default="0.0", min=0, max=0),
           Column("negative_type", "VARCHAR", "The negative action.", allowed=NEGATIVE_TYPES),
           Column("age_days", "INTEGER", "Age of the negative action at the end of the day.", unit="days", min=0,
                  max=36_500),
           DATE_HOUR, DS),
          key=("source_id", "destination_id", "negative_type"),
          rules=(self_edge(),
                 Rule("old_unfollow", f"negative_type = 'num_unfollows' AND age_days >= {UNFOLLOW_MAX_AGE_DAYS}",
                      f"unfollows younger than {UNFOLLOW_MAX_AGE_DAYS} days", drop=True,
                      source=f"unfollows count only while < {UNFOLLOW_MAX_AGE_DAYS} days old ({NEGATIVE_JOB})")),
          optional=True, source=NEGATIVE_JOB),
    Table("valid_user_follows", "Follow edges A->B as of the day (docs/realgraph.md §2.3).",
          (*_pair("follows B"), DS), key=("source_id", "destination_id"), rules=(self_edge(),),
          optional=True, source=FOLLOW_SQL),
    Table("public_tweets", "Public tweets posted that day (docs/realgraph.md §2.3); only their count per author is used.",
          (Column("user_id", "BIGINT", "Author.", is_id=True), Column("tweet_id", "BIGINT", "Tweet.", is_id=True),
           Column("ts", "TIMESTAMP", "When it was posted.", in_day=True), DS),
          key=("tweet_id",), optional=True, source=FOLLOW_SQL),
    Table("planted_interaction_probability",
          "The simulator's planted probability of an interaction of each live tie that day (the oracle), one column per "
          "label variant (realgraph_assets/labels.py VARIANTS).",
          (*_pair("has a planted tie"),
           *(Column(v.planted, "FLOAT", f"P({v.what} A->B on the day).", min=0, max=1) for v in VARIANTS.values()),
           DS),
          key=("source_id", "destination_id"), optional=True, simulator_only=True),
))

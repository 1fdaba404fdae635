"""Real Graph interaction label vocabulary (docs/realgraph.md §1.6, §2.1), its bitmask encoding, and the label
variants (which next-day labels count as positive), each of which gets its own labeled, train, model and champion
assets.

``interaction_graph_labels_daily`` carries, per pair and day, the *set* of FeatureName names A did toward B.  The
pipeline stores that set as a bitmask (one bit per name) in its daily per-pair aggregate, so window features are
integer ``bit_or``/``bit_count`` arithmetic instead of exploding string arrays over 31 days.
"""

import dataclasses

EXPLICIT = (  # docs/realgraph.md §1.6, LabelUtil.scala (13 names, "num_rt_favories" sic)
    "num_follows", "num_favorites", "num_retweets", "num_mentions", "num_tweet_quotes", "num_photo_tags",
    "num_rt_favories", "num_rt_replies", "num_rt_tweet_quotes", "num_rt_retweets", "num_rt_mentions", "num_shares",
    "num_replies",
)
IMPLICIT = (  # docs/realgraph.md §1.6 (9 names)
    "num_tweet_clicks", "num_profile_views", "num_link_clicks", "num_push_opens", "num_ntab_clicks",
    "num_rt_tweet_clicks", "num_rt_link_clicks", "num_email_open", "num_email_click",
)
ALL_LABELS = EXPLICIT + IMPLICIT
BIT = {name: 1 << i for i, name in enumerate(ALL_LABELS)}
EXPLICIT_MASK = sum(BIT[n] for n in EXPLICIT)
ANY_MASK = sum(BIT.values())



@dataclasses.dataclass(frozen=True)
class Variant:
    """A label variant: a model family trained to predict whether A does one of ``positive_labels`` toward B tomorrow.

    Everything per variant derives from its entry in VARIANTS: the assets ``labeled_candidates<suffix>``,
    ``train<suffix>``, ``boosted_trees<suffix>``, ``light_ranker<suffix>``, ``champion<suffix>`` (and their tables,
    created like the prod ones of sql/schema.sql), and the simulator's oracle column ``planted`` of
    ``planted_interaction_probability`` (simulator.py computes it from ``positive_labels``; a stored table gains the
    column at the next load of raw logs)."""

    suffix: str  # of the variant's asset and table names ("" for prod)
    positive_labels: tuple[str, ...]  # next-day label names that make a positive
    what: str  # the positive in words, for descriptions ("any interaction")
    planted: str  # its planted-probability column in planted_interaction_probability

    @property
    def positive_mask(self) -> int:
        return sum(BIT[n] for n in self.positive_labels)

    def name(self, base: str) -> str:
        """The variant's asset (and table) of ``base``: name("train") -> "train_explicit"."""
        return base + self.suffix


# The two models of docs/realgraph.md §1.1. A variant added here gets all its assets, tables and oracle column.
VARIANTS = {
    "prod": Variant("", ALL_LABELS, "any interaction", "p_any"),
    "prod_explicit": Variant("_explicit", EXPLICIT, "an explicit interaction", "p_explicit"),
}

NEGATIVE_TYPES = ("num_blocks", "num_mutes", "num_report_as_abuses", "num_report_as_spams", "num_unfollows")
UNFOLLOW_MAX_AGE_DAYS = 90  # docs/realgraph.md §2.2: unfollows count as negative edges only while younger than 90 days

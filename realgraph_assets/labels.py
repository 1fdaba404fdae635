"""Real Graph interaction label vocabulary (docs/realgraph.md §1.6, §2.1) and its bitmask encoding.

``interaction_graph_labels_daily`` carries, per pair and day, the *set* of FeatureName names A did toward B.  The
pipeline stores that set as a bitmask (one bit per name) in its daily per-pair aggregate, so window features are
integer ``bit_or``/``bit_count`` arithmetic instead of exploding string arrays over 31 days.
"""

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

# The two models of docs/realgraph.md §1.1: name -> (table suffix, which next-day labels count as positive).
VARIANTS = {"prod": ("", ANY_MASK), "prod_explicit": ("_explicit", EXPLICIT_MASK)}

NEGATIVE_TYPES = ("num_blocks", "num_mutes", "num_report_as_abuses", "num_report_as_spams", "num_unfollows")
UNFOLLOW_MAX_AGE_DAYS = 90  # docs/realgraph.md §2.2: unfollows count as negative edges only while younger than 90 days

"""The input contract of Recap's raw tables (the home timeline's users, follows, tweets, impressions and engagements;
twitter/the-algorithm `src/scala/com/twitter/timelines/prediction/features/recap/RecapFeatures.scala`): enforced at the
door by ``feedtrain/ingest.py`` and documented in ``docs/input_contract.md`` (generated from this file)."""

from feedtrain.contract import DS, Column, Contract, Rule, Table, self_edge

from .heads import HEADS
from .windows import RECAP_CANDIDATE_AGE_DAYS

ENGAGEMENT_TYPES = ("favorite", "retweet", "reply", "convo_click", "profile_click", "profile_engage",
                    "video_playback_50", "negative_feedback", "report", "reply_engaged_by_author")
SURFACES = ("timeline", "conversation")
RECAP_FEATURES = "twitter/the-algorithm src/scala/com/twitter/timelines/prediction/features/recap/RecapFeatures.scala"


def _flag(name: str, what: str) -> Column:
    return Column(name, "BOOLEAN", what)


def _id(name: str, what: str) -> Column:
    return Column(name, "BIGINT", what, is_id=True)


# Engagements are checked against the impressions of the same (viewer, tweet) of this and the previous
# RECAP_CANDIDATE_AGE_DAYS days (relation ``context_impressions``, built by the door).
IMPRESSIONS_CONTEXT = ("impressions", RECAP_CANDIDATE_AGE_DAYS)
ENGAGED_IMPRESSIONS = "(SELECT * FROM context_impressions i WHERE i.viewer_id = r.user_id AND i.tweet_id = r.tweet_id)"

CONTRACT = Contract("recap", "1", notes=(
    "`impressions`, `engagements` and `tweets` are required (labels need impressions and engagements; the static "
    "features come from the impressed tweet); `users` and `follows` are optional (verified flag and in-network "
    "features are then false)."), tables=(
    Table("users", "Users as of 00:00 UTC of the day.",
          (_id("user_id", "User."), Column("created_at", "TIMESTAMP", "Account creation time."),
           _flag("is_verified", "Verified account."), DS),
          key=("user_id",), rules=(Rule("created_in_future", "created_at >= $ds::DATE + 1",
                                        "created_at before the end of the day"),), optional=True),
    Table("follows", "Follow edges made that day; the first day of the history also holds the graph from before it.",
          (_id("source_id", "Follower."), _id("destination_id", "Followed author."),
           Column("ts", "TIMESTAMP", "When the follow was made."), DS),
          key=("source_id", "destination_id"),
          rules=(self_edge(),
                 Rule("follow_outside_day", "ts >= $ds::DATE + 1 OR (ts < $ds::DATE AND $ds::DATE > $events_start)",
                      "ts within the day (earlier only on the first day of the history, which imports the graph)")),
          optional=True),
    Table("tweets", "Tweets posted that day with their content flags and text quality.",
          (_id("tweet_id", "Tweet."), _id("author_id", "Author."),
           Column("ts", "TIMESTAMP", "When it was posted.", in_day=True),
           _flag("has_image", "Has an image."), _flag("has_video", "Has a video."), _flag("has_link", "Has a link."),
           _flag("is_reply", "Is a reply."), _flag("is_retweet", "Is a retweet."),
           Column("num_hashtags", "INTEGER", "Hashtags in the text.", min=0),
           Column("num_mentions", "INTEGER", "Mentions in the text.", min=0),
           Column("text_quality", "DOUBLE", "Earlybird-style static text score.", min=0, max=1), DS),
          key=("tweet_id",), source=RECAP_FEATURES),
    Table("impressions", "Tweets shown on the home timeline that day.",
          (_id("impression_id", "Impression."), _id("viewer_id", "Viewer."), _id("tweet_id", "Tweet shown."),
           _id("author_id", "Its author."), Column("ts", "TIMESTAMP", "When it was shown.", in_day=True),
           Column("position", "INTEGER", "Slot in the viewer's session, 0 = top.", min=0), DS),
          key=("impression_id",)),
    Table("engagements",
          "Engagements that happened that day: an engagement after midnight with an impression of an earlier day is "
          "in this day's partition.",
          (_id("user_id", "The viewer who engaged (for reply_engaged_by_author: whose reply the author engaged with)."),
           _id("tweet_id", "Tweet."), _id("author_id", "Its author."),
           Column("engagement_type", "VARCHAR", "The action (docs/recap.md §3.1).", allowed=ENGAGEMENT_TYPES),
           Column("ts", "TIMESTAMP", "When it happened.", in_day=True),
           Column("surface", "VARCHAR", "Where: timeline, or conversation after clicking into it.", allowed=SURFACES,
                  default="'timeline'"),
           Column("dwell_seconds", "DOUBLE", "Dwell time of a convo_click.", nullable=True, unit="seconds", min=0,
                  default="NULL::DOUBLE"),
           DS),
          key=("user_id", "tweet_id", "engagement_type", "ts"),
          rules=(Rule("unknown_impression", f"NOT EXISTS {ENGAGED_IMPRESSIONS}",
                      f"an impression of the same viewer and tweet on this or the {RECAP_CANDIDATE_AGE_DAYS} previous days",
                      context=IMPRESSIONS_CONTEXT),
                 Rule("before_impression", f"EXISTS {ENGAGED_IMPRESSIONS} AND NOT EXISTS "
                      f"{ENGAGED_IMPRESSIONS[:-1]} AND i.ts <= r.ts)",
                      "the engagement at or after an impression of the same viewer and tweet",
                      context=IMPRESSIONS_CONTEXT)),
          source=RECAP_FEATURES),
    Table("planted_engagement_probability",
          "The simulator's planted probability of every head's label per impression (the oracle) and its utility.",
          (_id("impression_id", "Impression."),
           *(Column(f"p_{k}", "DOUBLE", f"Planted P({k}).", min=0, max=1) for k in HEADS),
           Column("utility", "DOUBLE", "v1-weighted sum of the planted probabilities (the NDCG relevance)."), DS),
          key=("impression_id",), optional=True, simulator_only=True),
))

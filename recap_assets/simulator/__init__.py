"""The embedded default data source: a seeded simulator of a "For You" home timeline.

A *world* (users, topics, author quality and toxicity, follow graph with follow times, viewer propensities per
engagement) is drawn once from the seed; every day is then a pure function of (world, day): the tweets posted that
day, the impressions served that day (each a (viewer, tweet) shown at a time and a position), and the engagements that
happen that day.  Nothing carries state from one day to the next, so any day can be generated alone, in any order.

What the heavy ranker has to learn from:

- candidates are in-network (a tweet of an author the viewer follows) or out-of-network (popular tweets of the last
  48 hours, half of them from the viewer's community), never older than 48 hours and never the viewer's own;
- each impression has a *planted* probability for each engagement, a logistic function of hidden variables: the
  viewer's per-engagement propensity, viewer-author topic affinity, tie strength (if following), the author's quality
  and toxicity, the tweet's hidden appeal (viral tweets), content flags, tweet age and position;
- engagements follow the rules of docs/recap.md §3.1: a good click v1 is a conversation click followed by a like or reply *in
  the conversation*, a good click v2 a conversation click with >= 120 s dwell, a profile engagement follows a profile
  click, the author engages with a reply after it; plus non-label noise (short clicks, profile clicks alone);
- engagements arrive after the impression: normally within 45 minutes (so an impression at 23:40 is engaged with on
  the next day and lands in the next day's partition), and 3 % of the time much later (6 to 30 hours: the viewer comes
  back), which an attribution window of 2 to 6 hours must ignore.

Because of that construction the probability of every *label* (an engagement inside the window) is known exactly, and
is stored per impression as the oracle (valid for attribution windows from 2 h to 6 h), with the planted utility = the
v1-weighted score of those probabilities (docs/recap.md §3.2), the relevance of the NDCG metric.

The package, by role: ``world.py`` the presets and the world drawn from the seed (users, topics, follow graph) and the
assembly of one day's raw tables; ``timeline.py`` what is posted and served each day (tweets, impressions and the
choice of candidates); ``engagement.py`` the planted probabilities and the engagement draw (including the exact
probability of every label, the oracle).
"""

from .engagement import CONVERSATION_LIKE_SHARE, EVENT_RATES, EVENTS, LATE_MS, LATE_SHARE, MAX_DELAY_MS
from .timeline import CANDIDATE_AGE_MS, DAY_MS, HOUR_MS
from .world import PRESETS, Day, Preset, World, world

__all__ = ["CANDIDATE_AGE_MS", "CONVERSATION_LIKE_SHARE", "DAY_MS", "EVENTS", "EVENT_RATES", "HOUR_MS", "LATE_MS",
           "LATE_SHARE", "MAX_DELAY_MS", "PRESETS", "Day", "Preset", "World", "world"]

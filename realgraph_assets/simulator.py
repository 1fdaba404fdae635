"""The embedded default data source: a seeded simulator of a social network's daily Real Graph logs.

A *world* (users, latent ties, follows, negative actions) is drawn once from the seed; each day is then a pure function
of (world, day), so any day can be generated alone, in any order, in parallel, and always the same.  What makes the
prediction problem real:

- heavy-tailed user activity and popularity (log-normal / Pareto);
- latent ties with an affinity: homophily (most ties inside a community, which are also stronger), reciprocity (a share
  of ties have a reverse tie with correlated affinity), a few strong ties per user;
- interaction types of docs/realgraph.md §1.6 with different rates; each tie has its own explicit propensity, so ``prod`` and
  ``prod_explicit`` are different problems;
- weekly seasonality; ties that form (ramping up over a week, usually with a follow) and fade (over a month) and end;
- negative actions (block, mute, reports, unfollow) that stop all later interactions of the pair and land in the
  negative-edge snapshot;
- background browsing noise between strangers (clicks and profile views only).

For every tie alive on a day it records the planted probability of a positive of each label variant that day (any
interaction, an explicit one, ...: labels.VARIANTS), so a model's quality can be compared with the oracle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pyarrow as pa

from feedtrain.simulate import mean_one, sample_in_group

from .labels import BIT, NEGATIVE_TYPES, VARIANTS
from .windows import EVENTS_START

# Daily probability that a given type is among a pair's labels, given the pair interacts that day.
# Explicit rates are scaled per tie by its explicit propensity (mean 1).
EXPLICIT_TYPE_RATES = {
    "num_favorites": 0.45, "num_retweets": 0.10, "num_replies": 0.12, "num_mentions": 0.05,
    "num_tweet_quotes": 0.02, "num_photo_tags": 0.005,
}
IMPLICIT_TYPE_RATES = {
    "num_tweet_clicks": 0.50, "num_profile_views": 0.25, "num_link_clicks": 0.10, "num_push_opens": 0.06,
    "num_ntab_clicks": 0.05,
}
WEEKDAY_FACTOR = np.array([1.00, 1.05, 1.05, 1.00, 0.95, 0.75, 0.70])  # Monday .. Sunday
NEVER = np.iinfo(np.int32).max // 2


@dataclasses.dataclass(frozen=True)
class Preset:
    users: int
    ties_per_user: float  # mean latent ties per user (heavy-tailed by activity)
    noise_per_user: float  # mean stranger interactions per user per day
    tweets_per_user: float  # mean public tweets per user per day
    base_rate: float = 0.12  # scales the daily interaction intensity of an average tie
    tie_life_days: float | None = None  # mean life of a tie formed after the epoch (None: ~45 % die within 13 months)
    born_before_epoch: float = 0.6  # share of ties alive from before the epoch
    ramp_days: float = 7.0  # a new tie reaches full intensity after this many days
    follow_rate: float = 1.0  # scales the chance that a tie comes with a follow (0: no follow graph)
    negative_rate: float = 0.03  # share of ties that end with a negative action (0: no negative edges)


# "sparse" is shaped like a real Q&A site's user-to-user log (answers and comments): ~110 interacting pairs and ~1,000
# candidate sources a day, a next-day positive rate of ~0.5 % among the candidates, and strong recency (a pair
# interacts in a burst of a few days, then rarely again); no follows, tweets or negative edges, as such logs have none.
SPARSE = dict(noise_per_user=0.045, tweets_per_user=0.0, base_rate=0.25, tie_life_days=6.0, born_before_epoch=0.0,
              ramp_days=1.0, follow_rate=0.0, negative_rate=0.0)
PRESETS = {
    "tiny": Preset(users=300, ties_per_user=10, noise_per_user=0.3, tweets_per_user=1.0),
    "small": Preset(users=3_000, ties_per_user=20, noise_per_user=0.3, tweets_per_user=1.0),
    "default": Preset(users=20_000, ties_per_user=25, noise_per_user=0.3, tweets_per_user=1.0),
    "bench": Preset(users=100_000, ties_per_user=30, noise_per_user=0.3, tweets_per_user=1.0),
    "sparse": Preset(users=2_000, ties_per_user=6, **SPARSE),
    "sparse_tiny": Preset(users=600, ties_per_user=6, **SPARSE),  # the sparse regime at CI size
}


@dataclasses.dataclass(frozen=True)
class Day:
    """One simulated day: each field is an Arrow table shaped like its raw table (docs/realgraph.md §2), without ``ds``."""

    labels: pa.Table  # source_id, destination_id, label_mask
    negative_edges: pa.Table  # source_id, destination_id, negative_type, age_days
    follows: pa.Table  # source_id, destination_id
    tweets: pa.Table  # user_id, tweet_id, ts
    planted_probability: pa.Table  # source_id, destination_id, and each variant's planted column (p_any, ...)


class World:
    def __init__(self, preset: str = "default", seed: int = 7, epoch: dt.date = EVENTS_START):
        if preset not in PRESETS:
            raise ValueError(f"unknown world preset {preset!r}; choose one of {sorted(PRESETS)}")
        self.preset, self.seed, self.epoch = PRESETS[preset], seed, epoch
        rng = np.random.default_rng([seed, 0])
        n = self.preset.users
        self.n_users = n
        # Users: heavy-tailed activity (as a source) and popularity (as a destination), communities for homophily.
        self.activity = mean_one(rng.lognormal(0.0, 0.9, n))
        self.popularity = mean_one(rng.pareto(1.5, n) + 0.05)
        self.tweet_rate = self.preset.tweets_per_user * mean_one(rng.lognormal(0.0, 1.0, n))  # all 0 without tweets
        community = rng.integers(0, max(1, n // 150), n)

        # Latent ties: out-degree grows with activity; 75 % inside the community, destination ~ popularity.
        degree = np.maximum(1, rng.poisson(self.preset.ties_per_user * np.sqrt(self.activity))).astype(np.int64)
        src = np.repeat(np.arange(n), degree)
        same = rng.random(len(src)) < 0.75
        dst = np.where(same, sample_in_group(rng, community, self.popularity, community[src]),
                       rng.choice(n, len(src), p=self.popularity / self.popularity.sum()))
        affinity = rng.lognormal(0.0, 0.8, len(src)) * np.where(same, 1.5, 0.7)
        strong = rng.random(len(src)) < np.minimum(1.0, 3.0 / degree[src])
        affinity = np.where(strong, affinity * 5.0, affinity)
        # Reciprocity: a third of ties get a reverse tie whose affinity is correlated with the forward one.
        back = rng.random(len(src)) < 0.33
        src, dst = np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])
        affinity = np.concatenate([affinity, affinity[back] * rng.lognormal(0.0, 0.4, back.sum())])
        keep = src != dst
        src, dst, affinity = src[keep], dst[keep], affinity[keep]
        key, first = np.unique(src * n + dst, return_index=True)
        self.src, self.dst, self.key = src[first], dst[first], key
        m = len(key)
        self.affinity = mean_one(affinity[first])
        self.explicit_scale = rng.beta(2.0, 2.0, m) * 2.0

        # Lifecycle, in days since the epoch: 60 % of ties predate it; the rest form over the next ~13 months.
        p = self.preset
        self.birth = np.where(rng.random(m) < p.born_before_epoch, -NEVER, rng.integers(-60, 400, m)).astype(np.int64)
        if p.tie_life_days is None:
            self.death = np.where(rng.random(m) < 0.45, rng.integers(0, 400, m), NEVER).astype(np.int64)
            self.death = np.maximum(self.death, self.birth + 14)
        else:  # short-lived ties: a burst of interactions, then silence (strong recency)
            self.death = self.birth + 1 + rng.geometric(1.0 / p.tie_life_days, m)
        # Negative actions: a share of ties ends with one; the day it happens every later interaction stops.
        negative = rng.random(m) < p.negative_rate
        self.negative_day = np.where(negative, rng.integers(-120, 400, m), NEVER).astype(np.int64)
        self.negative_type = rng.integers(0, len(NEGATIVE_TYPES), m)
        # Follows: likely for strong ties, sometimes for weak ones; made when the tie forms (or before the epoch).
        follows = rng.random(m) < p.follow_rate * np.where(self.affinity > 1.0, 0.8, 0.3)
        delay = rng.geometric(0.5, m) - 1
        self.follow_day = np.where(follows, np.maximum(self.birth, -NEVER // 2) + delay, NEVER).astype(np.int64)
        ends_follow = np.isin(self.negative_type, [NEGATIVE_TYPES.index("num_blocks"), NEGATIVE_TYPES.index("num_unfollows")])
        self.unfollow_day = np.where(ends_follow, self.negative_day, NEVER)
        self._type_rates = np.array(list(EXPLICIT_TYPE_RATES.values()) + list(IMPLICIT_TYPE_RATES.values()))
        self._type_bits = np.array([BIT[t] for t in (*EXPLICIT_TYPE_RATES, *IMPLICIT_TYPE_RATES)], dtype=np.int64)
        self._n_explicit = len(EXPLICIT_TYPE_RATES)

    # -- planted probabilities ------------------------------------------------------------------------------------
    def day_index(self, day: dt.date) -> int:
        return (day - self.epoch).days

    def intensity(self, t: int) -> np.ndarray:
        """Expected interactions of each tie on day t (0 for ties not alive or ended by a negative action)."""
        ramp = np.clip((t - self.birth + 1) / self.preset.ramp_days, 0.0, 1.0)
        fade = np.clip((self.death - t) / min(30.0, self.preset.tie_life_days or 30.0), 0.0, 1.0)
        alive = (t < self.negative_day).astype(float)
        season = WEEKDAY_FACTOR[(self.epoch + dt.timedelta(days=t)).weekday()]
        content = (np.sqrt(0.5 + self.tweet_rate[self.dst] / self.preset.tweets_per_user)
                   if self.preset.tweets_per_user > 0 else 1.0)
        return (self.preset.base_rate * season * self.activity[self.src] * self.affinity * content
                * ramp * fade * alive)

    def interaction_probability(self, t: int) -> np.ndarray:
        """Planted P(the pair interacts on day t), per tie: certain on the day of its follow."""
        return np.where(self.follow_day == t, 1.0, 1.0 - np.exp(-self.intensity(t)))

    def planted_probabilities(self, t: int) -> dict[str, np.ndarray]:
        """Planted P(a positive of each label variant on day t), per tie, by its ``planted`` column (labels.VARIANTS):
        exact under the draw of ``day``. Given an interaction each simulated type is drawn independently, an empty draw
        counts as a tweet click, and the follow day always interacts and carries num_follows."""
        p_any = 1.0 - np.exp(-self.intensity(t))
        rates = np.minimum(1.0, np.concatenate([self.explicit_scale[:, None] * self._type_rates[: self._n_explicit],
                                                np.broadcast_to(self._type_rates[self._n_explicit:],
                                                                (len(p_any), len(self._type_rates) - self._n_explicit))],
                                               axis=1))
        none_drawn = None  # P(no simulated type drawn), computed once if a variant counts the tweet-click fallback
        follow_today = self.follow_day == t
        out = {}
        for variant in VARIANTS.values():
            columns = [j for j, bit in enumerate(self._type_bits) if bit & variant.positive_mask]
            miss = np.prod(1.0 - rates[:, columns], axis=1)  # none of the variant's types drawn
            if variant.positive_mask & BIT["num_tweet_clicks"]:  # ... unless nothing was drawn: a tweet click
                none_drawn = np.prod(1.0 - rates, axis=1) if none_drawn is None else none_drawn
                miss = miss - none_drawn
            hit = 1.0 - miss
            on_follow_day = 1.0 if variant.positive_mask & BIT["num_follows"] else hit
            out[variant.planted] = np.where(follow_today, on_follow_day, p_any * hit)
        return out

    # -- one day of logs --------------------------------------------------------------------------------------------
    def day(self, day: dt.date) -> Day:
        t = self.day_index(day)
        rng = np.random.default_rng([self.seed, 1, t + NEVER])
        p_any = self.interaction_probability(t)
        interacts = rng.random(len(p_any)) < p_any
        idx = np.flatnonzero(interacts)
        rates = self._type_rates.copy()
        scale = np.ones((len(idx), len(rates)))
        scale[:, : self._n_explicit] = self.explicit_scale[idx, None]
        has_type = rng.random((len(idx), len(rates))) < np.minimum(1.0, scale * rates)
        mask = (has_type * self._type_bits).sum(axis=1)
        mask = np.where(mask == 0, BIT["num_tweet_clicks"], mask)  # a label set is never empty (docs/realgraph.md §2.1)
        mask = mask | np.where(self.follow_day[idx] == t, BIT["num_follows"], 0)

        # Strangers browsing each other: clicks and profile views only, never after a negative action.
        k = rng.poisson(self.preset.noise_per_user * self.n_users)
        ns = rng.choice(self.n_users, k, p=self.activity / self.activity.sum())
        nd = rng.choice(self.n_users, k, p=self.popularity / self.popularity.sum())
        nmask = np.where(rng.random(k) < 0.7, BIT["num_profile_views"], BIT["num_tweet_clicks"])
        ok = (ns != nd) & ~self._blocked(ns * self.n_users + nd, t)
        key = np.concatenate([self.key[idx], (ns * self.n_users + nd)[ok]])
        masks = np.concatenate([mask, nmask[ok]]).astype(np.int64)
        order = np.argsort(key, kind="stable")
        key, masks = key[order], masks[order]
        ukey, start = np.unique(key, return_index=True)
        umask = np.bitwise_or.reduceat(masks, start) if len(key) else masks
        labels = pa.table({"source_id": ukey // self.n_users, "destination_id": ukey % self.n_users,
                           "label_mask": umask})

        neg = (self.negative_day <= t)
        is_unfollow = self.negative_type == NEGATIVE_TYPES.index("num_unfollows")
        neg &= ~is_unfollow | (t - self.negative_day < 90)
        negative_edges = pa.table({
            "source_id": self.src[neg], "destination_id": self.dst[neg],
            "negative_type": pa.array(np.array(NEGATIVE_TYPES)[self.negative_type[neg]]),
            "age_days": (t - self.negative_day[neg]).astype(np.int32),
        })
        following = (self.follow_day <= t) & (t < self.unfollow_day)
        follows = pa.table({"source_id": self.src[following], "destination_id": self.dst[following]})

        season = WEEKDAY_FACTOR[day.weekday()]
        n_tweets = rng.poisson(self.tweet_rate * season)
        author = np.repeat(np.arange(self.n_users), n_tweets)
        start_of_day = np.datetime64(day.isoformat(), "us")
        seconds = rng.integers(0, 86_400, len(author)).astype("timedelta64[s]")
        tweets = pa.table({
            "user_id": author,
            "tweet_id": (t + 100_000) * 10**9 + np.arange(len(author)),
            "ts": pa.array(start_of_day + seconds, type=pa.timestamp("us")),
        })

        alive = p_any > 0
        planted = pa.table({"source_id": self.src[alive], "destination_id": self.dst[alive],
                            **{c: p[alive].astype(np.float32) for c, p in self.planted_probabilities(t).items()}})
        return Day(labels, negative_edges, follows, tweets, planted)

    def _blocked(self, keys: np.ndarray, t: int) -> np.ndarray:
        pos = np.clip(np.searchsorted(self.key, keys), 0, len(self.key) - 1)
        return (self.key[pos] == keys) & (self.negative_day[pos] <= t)



@functools.lru_cache(maxsize=4)
def world(preset: str, seed: int) -> World:
    """Worlds are deterministic and take seconds to draw: build each once per process."""
    return World(preset, seed)

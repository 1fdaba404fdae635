"""The simulated world of the home timeline: its presets, the population and follow graph drawn once from the seed,
and one day's raw tables assembled from the day's timeline (timeline.py) and engagement draw (engagement.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pyarrow as pa

from feedtrain.simulate import mean_one, sample_in_group

from ..heads import score
from ..windows import EVENTS_START
from .engagement import EVENTS, EngagementDraw
from .timeline import DAY_MS, EVENT_OFFSET, TimelineDraw


@dataclasses.dataclass(frozen=True)
class Preset:
    users: int
    follows_per_user: float
    impressions_per_user: float  # mean impressions per active viewer and day (scaled by activity)
    tweets_per_user: float  # mean tweets per user and day


PRESETS = {
    "tiny": Preset(users=300, follows_per_user=20, impressions_per_user=20, tweets_per_user=1.5),
    "small": Preset(users=2_000, follows_per_user=40, impressions_per_user=40, tweets_per_user=2.0),
    "default": Preset(users=8_000, follows_per_user=60, impressions_per_user=45, tweets_per_user=2.0),
    "bench": Preset(users=60_000, follows_per_user=80, impressions_per_user=50, tweets_per_user=2.0),
}


@dataclasses.dataclass(frozen=True)
class Day:
    """One simulated day as Arrow tables shaped like the raw tables (without ``ds``)."""

    users: pa.Table
    follows: pa.Table
    tweets: pa.Table
    impressions: pa.Table
    engagements: pa.Table
    planted: pa.Table


class World(TimelineDraw, EngagementDraw):
    """Users, topics, author traits, viewer propensities and the follow graph, drawn once from (preset, seed); the
    days are drawn from them by the timeline (TimelineDraw) and the engagement draw (EngagementDraw)."""

    def __init__(self, preset: str = "default", seed: int = 11, epoch: dt.date = EVENTS_START):
        if preset not in PRESETS:
            raise ValueError(f"unknown world preset {preset!r}; choose one of {sorted(PRESETS)}")
        self.preset_name, self.preset, self.seed, self.epoch = preset, PRESETS[preset], seed, epoch
        p = self.preset
        rng = np.random.default_rng([seed, 0])
        n = self.n_users = p.users
        self.activity = mean_one(rng.lognormal(0.0, 0.8, n))
        self.p_active = 0.75
        n_comm = max(2, n // 200)
        self.community = rng.integers(0, n_comm, n)
        centers = rng.normal(0, 1, (n_comm, 8))
        topic = centers[self.community] + rng.normal(0, 0.8, (n, 8))
        self.topic = topic / np.linalg.norm(topic, axis=1, keepdims=True)
        self.popularity = mean_one(rng.pareto(1.3, n) + 0.1)
        self.tweet_rate = p.tweets_per_user * mean_one(rng.lognormal(0.0, 1.0, n))
        self.quality = rng.normal(0, 1, n)
        self.toxicity = rng.normal(0, 1, n)
        self.responsiveness = rng.beta(1.5, 5.0, n)  # chance the author engages with a reply
        top = self.popularity >= np.quantile(self.popularity, 0.97)
        self.verified = rng.random(n) < np.where(top, 0.7, 0.01)
        self.created_ms = -rng.integers(30, 4000, n).astype(np.int64) * DAY_MS - rng.integers(0, DAY_MS, n)
        general = rng.normal(0, 0.6, n)
        negative = rng.normal(0, 0.6, n)
        self.propensity = {e: (negative if e in ("negative_feedback", "report") else general) + rng.normal(0, 0.5, n)
                           for e in EVENTS}

        # Follow graph: degree grows with activity; 70 % inside the community, authors drawn by popularity.
        degree = np.maximum(1, rng.poisson(p.follows_per_user * np.sqrt(self.activity)))
        src = np.repeat(np.arange(n), degree)
        same = rng.random(len(src)) < 0.7
        dst = np.where(same, sample_in_group(rng, self.community, self.popularity, self.community[src]),
                       rng.choice(n, len(src), p=self.popularity / self.popularity.sum()))
        keep = src != dst
        key = np.unique(src[keep] * n + dst[keep])
        self.follow_key, self.follow_src, self.follow_dst = key, key // n, key % n
        m = len(key)
        self.tie = rng.lognormal(0, 0.7, m)
        # 85 % of follows predate the epoch (the imported graph); the rest are made over the next ~200 days.
        before = rng.random(m) < 0.85
        self.follow_ms = np.where(before, -rng.integers(1, 1000 * DAY_MS, m),
                                  rng.integers(0, 200 * DAY_MS, m)).astype(np.int64)
        self.follow_ptr = np.searchsorted(self.follow_src, np.arange(n + 1))
        # Per-world caches of the day-level pieces a day reuses from its neighbours (day t reads tweets of t-2 .. t
        # and engagements caused by impressions of t-2 .. t), so a run over consecutive days computes each once.
        self.tweets = functools.lru_cache(maxsize=8)(self._tweets)
        self.impressions = functools.lru_cache(maxsize=4)(self._impressions)
        self.engagements_from = functools.lru_cache(maxsize=4)(self._engagements_from)
        self.alpha = {e: 0.0 for e in EVENTS}
        self._calibrate()

    # -- helpers --------------------------------------------------------------------------------------------------------
    def day_index(self, day: dt.date) -> int:
        return (day - self.epoch).days

    def _rng(self, stream: int, t: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, t + EVENT_OFFSET])

    def _ts(self, ms: np.ndarray) -> pa.Array:
        base = np.datetime64(self.epoch.isoformat(), "ms")
        return pa.array(base + ms.astype("timedelta64[ms]"), type=pa.timestamp("us"))

    def follow_lookup(self, viewer: np.ndarray, author: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into the follow arrays, whether the edge exists) per pair."""
        k = viewer * self.n_users + author
        pos = np.clip(np.searchsorted(self.follow_key, k), 0, len(self.follow_key) - 1)
        return pos, self.follow_key[pos] == k

    # -- one day of raw tables -----------------------------------------------------------------------------------------
    def day(self, day: dt.date) -> Day:
        t = self.day_index(day)
        users = pa.table({"user_id": np.arange(self.n_users, dtype=np.int64), "created_at": self._ts(self.created_ms),
                          "is_verified": self.verified})
        # The first partition also carries the follow graph that predates the simulation, at its real follow times.
        in_day = (self.follow_ms // DAY_MS == t) | ((self.follow_ms < 0) & (t == 0))
        follows = pa.table({"source_id": self.follow_src[in_day], "destination_id": self.follow_dst[in_day],
                            "ts": self._ts(self.follow_ms[in_day])})
        tw = self.tweets(t)
        tweets = pa.table({"tweet_id": tw["tweet_id"], "author_id": tw["author_id"], "ts": self._ts(tw["ms"]),
                           **{c: tw[c] for c in ("has_image", "has_video", "has_link", "is_reply", "is_retweet")},
                           "num_hashtags": tw["num_hashtags"].astype(np.int32),
                           "num_mentions": tw["num_mentions"].astype(np.int32), "text_quality": tw["text_quality"]})
        imp = self.impressions(t)
        impressions = pa.table({"impression_id": imp["impression_id"], "viewer_id": imp["viewer_id"],
                                "tweet_id": imp["tweet_id"], "author_id": imp["author_id"], "ts": self._ts(imp["ms"]),
                                "position": imp["position"].astype(np.int32)})
        parts = [self.engagements_from(d) for d in (t - 2, t - 1, t)]
        eng = {c: np.concatenate([d[c] for d in parts]) for c in parts[0]}
        sel = eng["ms"] // DAY_MS == t
        order = np.argsort(eng["ms"][sel], kind="stable")
        engagements = pa.table({
            "user_id": eng["user_id"][sel][order], "tweet_id": eng["tweet_id"][sel][order],
            "author_id": eng["author_id"][sel][order], "engagement_type": eng["engagement_type"][sel][order],
            "ts": self._ts(eng["ms"][sel][order]), "surface": eng["surface"][sel][order],
            "dwell_seconds": pa.array(eng["dwell_seconds"][sel][order], from_pandas=True)})
        labels = self.label_probabilities(imp["p"])
        planted = pa.table({"impression_id": imp["impression_id"],
                            **{f"p_{k}": v.astype(np.float64) for k, v in labels.items()},
                            "utility": score(labels, "v1")})
        return Day(users, follows, tweets, impressions, engagements, planted)


@functools.lru_cache(maxsize=4)
def world(preset: str, seed: int) -> World:
    """Worlds are deterministic: build each once per process."""
    return World(preset, seed)

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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pyarrow as pa

from feedtrain.simulate import mean_one, sample_in_group

from .heads import HEADS, score
from .windows import EVENTS_START

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CANDIDATE_AGE_MS = 48 * HOUR_MS  # impressed tweets are at most 48 hours old
MAX_DELAY_MS = 45 * 60_000  # normal engagement delay cap; author engagement with a reply: another 45 minutes at most
LATE_SHARE = 0.03  # share of engagements that come 6-30 hours after the impression
LATE_MS = (6 * HOUR_MS, 30 * HOUR_MS)
CONVERSATION_LIKE_SHARE = 0.8  # a good click v1 ends with a like (else a reply) in the conversation
WEEKDAY_FACTOR = np.array([1.00, 1.03, 1.05, 1.02, 0.97, 0.85, 0.82])  # Monday .. Sunday
HOUR_WEIGHT = np.array([2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5, 4.5, 4.5, 5, 5, 4.5, 4.5, 5, 5.5, 6.5, 7, 7, 6, 4.5, 3])
EVENT_OFFSET = 100_000  # day index offset keeping ids and seeds positive for days before the epoch

# Target mean event probabilities: chosen so that the label rates land near heads.HEADS[...].base_rate.
EVENT_RATES = {
    "favorite": 0.024, "retweet": 0.0062, "reply": 0.0021, "good_click_v1": 0.0103, "good_click_v2": 0.0124,
    "profile_engage": 0.0031, "video_playback_50": 0.15, "negative_feedback": 0.0031, "report": 1.03e-5,
}
EVENTS = list(EVENT_RATES)


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


class World:
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

    # -- tweets --------------------------------------------------------------------------------------------------------
    def _tweets(self, t: int) -> dict[str, np.ndarray]:
        rng = self._rng(1, t)
        season = WEEKDAY_FACTOR[(self.epoch + dt.timedelta(days=t)).weekday()]
        author = np.repeat(np.arange(self.n_users), rng.poisson(self.tweet_rate * season))
        k = len(author)
        image = rng.random(k) < 0.25
        video = ~image & (rng.random(k) < 0.12)
        reply = rng.random(k) < 0.15
        return {
            "tweet_id": (t + EVENT_OFFSET) * 10**9 + np.arange(k, dtype=np.int64),
            "author_id": author,
            "ms": t * DAY_MS + _diurnal_ms(rng, k),
            "has_image": image, "has_video": video, "has_link": rng.random(k) < 0.2,
            "is_reply": reply, "is_retweet": ~reply & (rng.random(k) < 0.15),
            "num_hashtags": rng.poisson(0.6, k), "num_mentions": rng.poisson(0.4, k) + reply,
            "text_quality": 1.0 / (1.0 + np.exp(-(0.8 * self.quality[author] + rng.normal(0, 0.7, k)))),
            "appeal": rng.normal(0, 0.6, k),  # hidden: how much people like this tweet
        }

    # -- impressions ---------------------------------------------------------------------------------------------------
    def _impressions(self, t: int) -> dict[str, np.ndarray]:
        """Impressions served on day t, with every quantity the planted probabilities need."""
        p, n = self.preset, self.n_users
        rng = self._rng(2, t)
        season = WEEKDAY_FACTOR[(self.epoch + dt.timedelta(days=t)).weekday()]
        active = rng.random(n) < self.p_active * season
        count = rng.poisson(p.impressions_per_user * self.activity) * active
        viewer = np.repeat(np.arange(n), count)
        k = np.arange(len(viewer)) - np.repeat(np.cumsum(count) - count, count)  # index within the viewer's day
        session_len = 12
        session = k // session_len
        position = k % session_len
        n_sessions = (count + session_len - 1) // session_len
        starts = _diurnal_ms(rng, int(n_sessions.sum()))
        first_session = np.repeat(np.cumsum(n_sessions) - n_sessions, count)
        ms = t * DAY_MS + starts[first_session + session] + position * 15_000 + rng.integers(0, 10_000, len(viewer))
        ok = ms < (t + 1) * DAY_MS
        viewer, position, ms = viewer[ok], position[ok], ms[ok]

        pool = [self.tweets(d) for d in (t - 2, t - 1, t)]
        tw = {c: np.concatenate([d[c] for d in pool]) for c in pool[0]}
        tweet = self._candidates(rng, tw, viewer, ms)
        ok = tweet >= 0
        viewer, position, ms, tweet = viewer[ok], position[ok], ms[ok], tweet[ok]
        author = tw["author_id"][tweet]
        ok = author != viewer
        _, first = np.unique(viewer[ok] * 10**7 + tweet[ok], return_index=True)  # one impression per (viewer, tweet)
        idx = np.flatnonzero(ok)[np.sort(first)]
        viewer, position, ms, tweet, author = viewer[idx], position[idx], ms[idx], tweet[idx], author[idx]
        order = np.argsort(ms, kind="stable")
        viewer, position, ms, tweet, author = viewer[order], position[order], ms[order], tweet[order], author[order]
        fpos, follows = self.follow_lookup(viewer, author)
        in_network = follows & (self.follow_ms[fpos] < ms)
        imp = {
            "impression_id": (t + 3 * EVENT_OFFSET) * 10**9 + np.arange(len(viewer), dtype=np.int64),
            "viewer_id": viewer, "author_id": author, "ms": ms, "position": position,
            "in_network": in_network, "tie": np.where(in_network, self.tie[fpos], 0.0),
            **{c: tw[c][tweet] for c in ("tweet_id", "has_image", "has_video", "has_link", "is_reply", "is_retweet",
                                         "text_quality", "appeal")},
            "age_ms": ms - tw["ms"][tweet],
        }
        imp["p"] = self._event_probabilities(imp)
        return imp

    def _candidates(self, rng, tw: dict, viewer: np.ndarray, ms: np.ndarray) -> np.ndarray:
        """Index into ``tw`` of the tweet shown at each impression (-1 if no candidate): in-network with probability
        0.55 (a tweet of a followed author), else out-of-network by author popularity x tweet appeal, half of the time
        from the viewer's community. Every candidate was posted in the 48 hours strictly before the impression."""
        k = len(viewer)
        out = np.full(k, -1, dtype=np.int64)
        base = int(tw["ms"].min()) if len(tw["ms"]) else 0
        rel = tw["ms"] - base
        span = int(rel.max()) + 1 if len(rel) else 1
        lo_ms, hi_ms = np.maximum(ms - CANDIDATE_AGE_MS - base, 0), ms - base

        # In-network: a random followed author (followed before the day), then one of their recent tweets.
        deg = self.follow_ptr[viewer + 1] - self.follow_ptr[viewer]
        want_in = (rng.random(k) < 0.55) & (deg > 0)
        j = self.follow_ptr[viewer] + (rng.random(k) * np.maximum(deg, 1)).astype(np.int64)
        j = np.minimum(j, len(self.follow_dst) - 1)
        want_in &= self.follow_ms[j] < (ms // DAY_MS) * DAY_MS
        a = self.follow_dst[j]
        order = np.lexsort((rel, tw["author_id"]))
        keys = tw["author_id"][order] * span + rel[order]
        lo = np.searchsorted(keys, a * span + lo_ms, "left")
        hi = np.searchsorted(keys, a * span + hi_ms, "left")
        has = want_in & (hi > lo)
        pick = hi - 1 - ((hi - lo) * rng.random(k) ** 2).astype(np.int64)  # recent tweets first
        out[has] = order[np.clip(pick, 0, len(order) - 1)[has]]

        # Out-of-network: weighted by author popularity x exp(appeal), from the community or from everyone.
        weight = self.popularity[tw["author_id"]] * np.exp(tw["appeal"])
        group = np.where(rng.random(k) < 0.5, self.community[viewer], -1)
        tweet_group = self.community[tw["author_id"]]
        need = out < 0
        for g_of_tweet, mask in ((tweet_group, need & (group >= 0)), (np.zeros_like(tweet_group), need & (group < 0))):
            order = np.lexsort((rel, g_of_tweet))
            keys = g_of_tweet[order] * span + rel[order]
            prefix = np.concatenate([[0.0], np.cumsum(weight[order])])
            g = np.where(group >= 0, group, 0)[mask]
            lo = np.searchsorted(keys, g * span + lo_ms[mask], "left")
            hi = np.searchsorted(keys, g * span + hi_ms[mask], "left")
            x = prefix[lo] + rng.random(len(lo)) * (prefix[hi] - prefix[lo])
            pick = np.clip(np.searchsorted(prefix, x, "right") - 1, lo, np.maximum(hi - 1, lo))
            out[np.flatnonzero(mask)[hi > lo]] = order[np.clip(pick, 0, len(order) - 1)][hi > lo]
        return out

    def _logits(self, imp: dict) -> dict[str, np.ndarray]:
        v, a = imp["viewer_id"], imp["author_id"]
        affinity = np.einsum("ij,ij->i", self.topic[v], self.topic[a])
        inn = imp["in_network"].astype(float)
        tie = np.log(np.maximum(imp["tie"], 1e-9)) * inn
        age_h = imp["age_ms"] / HOUR_MS
        text = imp["text_quality"] - 0.5
        common = (1.2 * affinity + 0.6 * inn + 0.5 * tie + 0.6 * imp["appeal"] + 0.3 * self.quality[a]
                  - 0.02 * age_h - 0.15 * np.log1p(imp["position"]))
        prop = {e: self.propensity[e][v] for e in EVENTS}
        return {
            "favorite": prop["favorite"] + common + 0.3 * imp["has_image"] + 0.5 * text,
            "retweet": prop["retweet"] + common + 0.4 * imp["appeal"] + 0.3 * imp["has_link"],
            "reply": prop["reply"] + common + 0.5 * inn + 0.4 * imp["is_reply"],
            "good_click_v1": prop["good_click_v1"] + common + 0.4 * imp["is_reply"] + 0.5 * text,
            "good_click_v2": prop["good_click_v2"] + 0.8 * common + 1.2 * text + 0.3 * imp["has_link"],
            "profile_engage": prop["profile_engage"] + 0.7 * common - 0.8 * inn + 0.5 * self.verified[a],
            "video_playback_50": prop["video_playback_50"] + 0.6 * common,
            "negative_feedback": (prop["negative_feedback"] - 1.0 * affinity + 0.8 * self.toxicity[a]
                                  - 0.4 * self.quality[a] - 0.4 * imp["appeal"] - 0.6 * inn),
            "report": prop["report"] + 1.2 * self.toxicity[a] - 0.6 * affinity - 0.5 * inn,
        }

    def _event_probabilities(self, imp: dict) -> dict[str, np.ndarray]:
        z = self._logits(imp)
        p = {e: _sigmoid(z[e] + self.alpha[e]) for e in EVENTS}
        p["video_playback_50"] = np.where(imp["has_video"], p["video_playback_50"], 0.0)
        p["reply_engaged"] = self.responsiveness[imp["author_id"]] * (0.5 + 0.5 * imp["in_network"])
        return p

    def _calibrate(self) -> None:
        """Solve each event's intercept so the mean planted probability on a reference day matches EVENT_RATES."""
        imp = self.impressions(0)
        z = self._logits(imp)
        for e, target in EVENT_RATES.items():
            zz = z[e][imp["has_video"]] if e == "video_playback_50" else z[e]
            lo, hi = -30.0, 10.0
            for _ in range(50):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if _sigmoid(zz + mid).mean() < target else (lo, mid)
            self.alpha[e] = (lo + hi) / 2
        self.impressions.cache_clear()

    # -- labels' planted probabilities ---------------------------------------------------------------------------------
    @classmethod
    def label_probabilities(cls, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Exact probability of each head's label, for every head of heads.HEADS (the oracle)."""
        out = cls.planted_probabilities(p)
        missing = set(HEADS) - set(out)
        if missing:
            raise ValueError(f"heads {sorted(missing)} have no planted probability: add it in "
                             "World.planted_probabilities (recap_assets/simulator.py)")
        return {h: out[h] for h in HEADS}

    @staticmethod
    def planted_probabilities(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Exact probability of each label (engagement inside an attribution window of 2 to 6 hours), from the
        impressions' event probabilities ``p``. A new head adds its entry here."""
        on_time = 1.0 - LATE_SHARE
        gc1 = p["good_click_v1"] * on_time
        fav = 1 - (1 - p["favorite"] * on_time) * (1 - CONVERSATION_LIKE_SHARE * gc1)
        conv_reply = (1 - CONVERSATION_LIKE_SHARE) * gc1
        replied = 1 - (1 - p["reply"] * on_time) * (1 - conv_reply)
        r = p["reply_engaged"]
        engaged = 1 - (1 - p["reply"] * on_time * r) * (1 - conv_reply * r)
        out = {"favorited": fav, "retweeted": p["retweet"] * on_time, "replied": replied, "good_clicked_v1": gc1,
               "good_clicked_v2": p["good_click_v2"] * on_time, "profile_engaged": p["profile_engage"] * on_time,
               "reply_engaged_by_author": engaged, "video_playback_50": p["video_playback_50"] * on_time,
               "negative_feedback_v2": p["negative_feedback"] * on_time, "report_tweet_clicked": p["report"] * on_time}
        return out

    # -- engagements ---------------------------------------------------------------------------------------------------
    def _engagements_from(self, t: int) -> dict[str, np.ndarray]:
        """Every engagement caused by day t's impressions (some land on day t+1, late ones up to day t+2)."""
        imp = self.impressions(t)
        p = imp["p"]
        rng = self._rng(3, t)
        n = len(imp["viewer_id"])
        rows: list[tuple] = []  # (impression index, type, ms, surface, dwell seconds)

        def delay(k):
            late = rng.random(k) < LATE_SHARE
            normal = np.minimum(rng.exponential(4 * 60_000, k), MAX_DELAY_MS).astype(np.int64) + 1_000
            return np.where(late, rng.integers(*LATE_MS, k), normal)

        def emit(idx, kind, ms, surface="timeline", dwell=None):
            rows.append((idx, np.full(len(idx), kind), ms, np.full(len(idx), surface),
                         dwell if dwell is not None else np.full(len(idx), np.nan)))

        def draw(prob):
            return np.flatnonzero(rng.random(n) < prob)

        for kind, event in (("favorite", "favorite"), ("retweet", "retweet"), ("video_playback_50", "video_playback_50"),
                            ("negative_feedback", "negative_feedback"), ("report", "report")):
            idx = draw(p[event])
            emit(idx, kind, imp["ms"][idx] + delay(len(idx)))
        reply_idx = draw(p["reply"])
        reply_ms = imp["ms"][reply_idx] + delay(len(reply_idx))
        emit(reply_idx, "reply", reply_ms)

        # Good click v1: conversation click (dwell < 120 s), then a like or a reply in the conversation.
        idx = draw(p["good_click_v1"])
        click = imp["ms"][idx] + delay(len(idx))
        dwell = rng.uniform(10, 119, len(idx))
        emit(idx, "convo_click", click, dwell=dwell)
        then = click + (rng.uniform(0.1, 1.0, len(idx)) * dwell * 1000).astype(np.int64)
        like = rng.random(len(idx)) < CONVERSATION_LIKE_SHARE
        emit(idx[like], "favorite", then[like], "conversation")
        emit(idx[~like], "reply", then[~like], "conversation")
        replies = (np.concatenate([reply_idx, idx[~like]]), np.concatenate([reply_ms, then[~like]]))
        # Good click v2: a conversation click with a long dwell; plus short clicks that are no label (noise).
        idx = draw(p["good_click_v2"])
        emit(idx, "convo_click", imp["ms"][idx] + delay(len(idx)), dwell=rng.uniform(120, 600, len(idx)))
        idx = draw(np.minimum(1.0, 3.0 * p["good_click_v1"]))
        emit(idx, "convo_click", imp["ms"][idx] + delay(len(idx)),
             dwell=np.minimum(rng.exponential(20, len(idx)), 119.0))
        # Profile: a click then an engagement on the profile; plus profile clicks alone.
        idx = draw(p["profile_engage"])
        click = imp["ms"][idx] + delay(len(idx))
        emit(idx, "profile_click", click)
        emit(idx, "profile_engage", click + rng.integers(2_000, 60_000, len(idx)))
        idx = draw(np.minimum(1.0, 2.0 * p["profile_engage"]))
        emit(idx, "profile_click", imp["ms"][idx] + delay(len(idx)))
        # The author likes, replies to or retweets a reply, up to 45 minutes after it.
        idx, ms = replies
        engaged = rng.random(len(idx)) < p["reply_engaged"][idx]
        emit(idx[engaged], "reply_engaged_by_author",
             ms[engaged] + np.minimum(rng.exponential(15 * 60_000, engaged.sum()), MAX_DELAY_MS).astype(np.int64) + 1)

        idx = np.concatenate([r[0] for r in rows]).astype(np.int64)
        return {
            "user_id": imp["viewer_id"][idx], "tweet_id": imp["tweet_id"][idx], "author_id": imp["author_id"][idx],
            "engagement_type": np.concatenate([r[1] for r in rows]), "ms": np.concatenate([r[2] for r in rows]),
            "surface": np.concatenate([r[3] for r in rows]), "dwell_seconds": np.concatenate([r[4] for r in rows]),
        }

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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))



def _diurnal_ms(rng: np.random.Generator, k: int) -> np.ndarray:
    hour = rng.choice(24, k, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return hour * HOUR_MS + rng.integers(0, HOUR_MS, k)


@functools.lru_cache(maxsize=4)
def world(preset: str, seed: int) -> World:
    """Worlds are deterministic: build each once per process."""
    return World(preset, seed)

"""What the simulated home timeline posts and serves each day: tweets, and impressions of candidates (in-network
tweets of followed authors, out-of-network popular tweets), each a pure function of (world, day)."""

from __future__ import annotations

import datetime as dt

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CANDIDATE_AGE_MS = 48 * HOUR_MS  # impressed tweets are at most 48 hours old
WEEKDAY_FACTOR = np.array([1.00, 1.03, 1.05, 1.02, 0.97, 0.85, 0.82])  # Monday .. Sunday
HOUR_WEIGHT = np.array([2, 1.5, 1, 1, 1, 1.5, 2.5, 4, 5, 5, 4.5, 4.5, 5, 5, 4.5, 4.5, 5, 5.5, 6.5, 7, 7, 6, 4.5, 3])
EVENT_OFFSET = 100_000  # day index offset keeping ids and seeds positive for days before the epoch


class TimelineDraw:
    """The tweets and impressions of a day; mixed into ``world.World``, whose population and follow graph it reads."""

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
            "ms": t * DAY_MS + diurnal_ms(rng, k),
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
        starts = diurnal_ms(rng, int(n_sessions.sum()))
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


def diurnal_ms(rng: np.random.Generator, k: int) -> np.ndarray:
    hour = rng.choice(24, k, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return hour * HOUR_MS + rng.integers(0, HOUR_MS, k)

"""The engagement draw of the simulated home timeline: each impression's planted probability of every engagement (a
logistic function of hidden variables, calibrated to target rates), the exact probability of every label (the
oracle), and the engagements drawn from them with their delays (docs/recap.md §3.1)."""

from __future__ import annotations

import numpy as np

from ..heads import HEADS
from .timeline import HOUR_MS

MAX_DELAY_MS = 45 * 60_000  # normal engagement delay cap; author engagement with a reply: another 45 minutes at most
LATE_SHARE = 0.03  # share of engagements that come 6-30 hours after the impression
LATE_MS = (6 * HOUR_MS, 30 * HOUR_MS)
CONVERSATION_LIKE_SHARE = 0.8  # a good click v1 ends with a like (else a reply) in the conversation

# Target mean event probabilities: chosen so that the label rates land near heads.HEADS[...].base_rate.
EVENT_RATES = {
    "favorite": 0.024, "retweet": 0.0062, "reply": 0.0021, "good_click_v1": 0.0103, "good_click_v2": 0.0124,
    "profile_engage": 0.0031, "video_playback_50": 0.15, "negative_feedback": 0.0031, "report": 1.03e-5,
}
EVENTS = list(EVENT_RATES)


class EngagementDraw:
    """Planted probabilities and engagements of a day's impressions; mixed into ``world.World``, whose viewer
    propensities, author traits and calibrated intercepts (``alpha``) it reads."""

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
        p = {e: sigmoid(z[e] + self.alpha[e]) for e in EVENTS}
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
                lo, hi = (mid, hi) if sigmoid(zz + mid).mean() < target else (lo, mid)
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
                             "World.planted_probabilities (recap_assets/simulator/engagement.py)")
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


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))

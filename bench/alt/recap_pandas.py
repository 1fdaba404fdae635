"""One day of Recap's chain as a hand-written pandas job (pandas, NumPy, pyarrow; feedtrain.hashing for the
downsampling draw), from the raw days exported as Parquet by the bench's setup. It computes the rows of the assets' two
SQL files (recap_assets/sql) and of the per-head downsampling that ``recap_duckdb`` runs: merges and group-bys for the
labels and batch aggregates, ``merge_asof`` (strictly before) for the point-in-time running counts."""

import datetime as dt
import math
import time
from pathlib import Path

from recap_day import FEATURE_PARAMS, LABEL_PARAMS

REBYA = "reply_engaged_by_author"  # the author's action on the viewer's reply: it counts for the author, not the viewer
V_50D = ["favorite", "retweet", "reply", "convo_click", "profile_click", "video_playback_50", "negative_feedback"]
V_1D = ["favorite", "retweet", "reply", "convo_click", "negative_feedback"]
A_50D = ["favorite", "retweet", "reply", "negative_feedback", "report", REBYA]
CONTENT = ["has_image", "has_video", "has_link", "is_reply", "is_retweet", "num_hashtags", "num_mentions",
           "text_quality"]


def _type_counts(frame, key: str, types: list[str], name: str):
    """``count(*) FILTER (WHERE engagement_type = t)`` per key, one column per type, named ``name.format(t)``."""
    counts = frame.groupby([key, "engagement_type"]).size().unstack(fill_value=0)
    return counts.reindex(columns=types, fill_value=0).rename(columns=name.format)


def _stream(eng, eng_key: str, imps, imp_key: str, types: list[str]):
    """One key's events: an engagement adds 1 to its type's column (if listed), an impression to ``impressions``."""
    import pandas as pd

    e = pd.DataFrame({"key": eng[eng_key].to_numpy(), "ts": eng.ts.to_numpy(),
                      **{t: (eng.engagement_type == t).to_numpy().astype("int64") for t in types}, "impressions": 0})
    i = pd.DataFrame({"key": imps[imp_key].to_numpy(), "ts": imps.ts.to_numpy(), **{t: 0 for t in types},
                      "impressions": 1})
    return pd.concat([e, i], ignore_index=True)


def _before(events, key, ts):
    """Per probe (key, ts), the sums of the key's events strictly before ts (0 if none): the SQL's running sums read
    at a probe ordered before the events of the same instant. Result rows in the probes' order."""
    import numpy as np
    import pandas as pd

    cols = [c for c in events.columns if c not in ("key", "ts")]
    events = events.sort_values("ts", kind="stable")
    events[cols] = events.groupby("key")[cols].cumsum()  # running sums per key, in time order
    probes = pd.DataFrame({"key": np.asarray(key), "ts": np.asarray(ts, events.ts.dtype), "row": np.arange(len(key))})
    hit = pd.merge_asof(probes.sort_values("ts", kind="stable"), events, on="ts", by="key", allow_exact_matches=False)
    return hit.set_index("row").sort_index()[cols].fillna(0)


def _decimal_sum(frame, keys: list[str], column: str):
    """``sum(x::DECIMAL(38, 18))::DOUBLE`` per group as DuckDB computes it: each term becomes round(x * 1e18) (a double
    holding an integer), the terms are added exactly (here in three int64 limbs: units, 1e-9 and 1e-18) and the total
    is converted as double(total div 10^18) + double(total mod 10^18) / 1e18 (TryCastDecimalToFloatingPoint)."""
    import numpy as np

    v = np.round(frame[column].to_numpy() * 1e18)
    rest = np.fmod(v, 1e18)  # exact, as is (v - rest) / 1e18 while that quotient stays below 2**53 / 5**18
    r = rest.astype(np.int64)
    limbs = frame[keys].assign(q=np.rint((v - rest) / 1e18).astype(np.int64), hi=r // 10**9, lo=r % 10**9)
    s = limbs.groupby(keys).sum()
    hi = s.hi + s.lo // 10**9
    q, rest = s.q + hi // 10**9, (hi % 10**9) * 10**9 + s.lo % 10**9
    return q.astype("float64") + rest.astype("float64") / 1e18


def _sql_double(x: float) -> float:
    """The DOUBLE DuckDB makes of the SQL literal ``{x!r}`` (how recap_day spells the keep rates): a plain decimal
    literal is a DECIMAL, whose unscaled integer, above 2**53, is converted in two parts, so 0.012020880000000001 does
    not become Python's float (TryCastDecimalToFloatingPoint); an exponent makes it a DOUBLE."""
    text = repr(x)
    if "e" in text or "." not in text:
        return x
    whole, frac = text.split(".")
    unscaled, scale = int(whole + frac), 10 ** len(frac)
    if unscaled <= 2**53:
        return float(unscaled) / float(scale)
    return float(unscaled // scale) + float(unscaled % scale) / float(scale)


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from feedtrain import hashing
    from recap_assets.heads import HEADS, keep_rates

    imported = time.time()
    T = pd.Timestamp(day)
    steps, clock = {}, [time.time()]

    def read(table, **kwargs):
        return pq.read_table(home / "inputs" / f"{table}.parquet", **kwargs).to_pandas(date_as_object=False)

    def between(frame, first: int, last: int):  # the rows of days T + first .. T + last
        return frame[(frame.ds >= T + pd.Timedelta(days=first)) & (frame.ds <= T + pd.Timedelta(days=last))]

    def done(name, frame, step=None):
        frame.to_parquet(out / f"{name}.parquet", index=False)
        steps[step or name] = steps.get(step or name, 0.0) + time.time() - clock[0]
        clock[0] = time.time()

    # -- impressions_labeled: engagements of T..T+delay by the viewer on the tweet in [ts, ts + window) ------------
    imp, eng = read("impressions", filters=[("ds", "==", day)]), read("engagements")
    a = imp[["impression_id", "viewer_id", "tweet_id", "ts"]].merge(
        between(eng, 0, LABEL_PARAMS["label_delay_days"]).rename(columns={"user_id": "viewer_id", "ts": "e_ts"})
        [["viewer_id", "tweet_id", "engagement_type", "e_ts", "surface", "dwell_seconds"]],
        on=["viewer_id", "tweet_id"])
    a = a[(a.e_ts >= a.ts) & (a.e_ts < a.ts + pd.Timedelta(minutes=LABEL_PARAMS["window_minutes"]))]
    is_ = lambda *types: a.engagement_type.isin(types)  # noqa: E731

    def any_(mask):  # coalesce(bool_or(mask), false)
        return imp.impression_id.isin(a.impression_id[mask])

    def followed_by(first, then):  # coalesce(min(e.ts) FILTER (first) <= max(e.ts) FILTER (then), false)
        lo = a.e_ts[first].groupby(a.impression_id[first]).min()
        hi = a.e_ts[then].groupby(a.impression_id[then]).max()
        lo, hi = lo.align(hi, join="inner")
        return imp.impression_id.isin(lo.index[lo <= hi])

    # each head's label_sql (recap_assets/heads.py), by hand
    labels = {
        "favorited": any_(is_("favorite")),
        "retweeted": any_(is_("retweet")),
        "replied": any_(is_("reply")),
        "good_clicked_v1": followed_by(is_("convo_click"),
                                       is_("favorite", "reply") & (a.surface == "conversation")),
        "good_clicked_v2": any_(is_("convo_click") & (a.dwell_seconds >= 120)),
        "profile_engaged": followed_by(is_("profile_click"), is_("profile_engage")),
        "reply_engaged_by_author": followed_by(is_("reply"), is_(REBYA)),
        "video_playback_50": any_(is_("video_playback_50")),
        "negative_feedback_v2": any_(is_("negative_feedback")),
        "report_tweet_clicked": any_(is_("report")),
    }
    assert labels.keys() == HEADS.keys(), "a head without a pandas label"
    labeled = imp[["impression_id", "viewer_id", "tweet_id", "author_id", "ts", "position"]].assign(
        **{HEADS[h].column: v.astype("int32") for h, v in labels.items()}, ds=day)
    done("impressions_labeled", labeled)

    # -- impression_features: every feature from events strictly before the impression ---------------------------
    p = FEATURE_PARAMS
    imps = read("impressions", columns=["viewer_id", "tweet_id", "author_id", "ts", "ds"])
    follows, users = read("follows"), read("users")
    tweets = between(read("tweets"), -p["candidate_days"], 0).drop(columns=["author_id", "ds"])
    f = imp[["impression_id", "viewer_id", "tweet_id", "author_id", "ts"]].merge(
        tweets.rename(columns={"ts": "tweet_ts"}), on="tweet_id")
    # batch aggregates over the complete days [T - window, T - 1]
    past_imp, past_eng = between(imps, -p["window_days"], -1), between(eng, -p["window_days"], -1)
    by_viewer = past_eng[past_eng.engagement_type != REBYA]
    pairs = imp[["viewer_id", "author_id"]].drop_duplicates()
    pe = by_viewer.rename(columns={"user_id": "viewer_id"}).merge(pairs)
    pair_days = (pe.assign(fav=pe.engagement_type.eq("favorite"),
                           neg=pe.engagement_type.isin(["negative_feedback", "report"]))
                 .groupby(["viewer_id", "author_id", "ds"])
                 .agg(n=("fav", "size"), n_favorite=("fav", "sum"), n_negative=("neg", "sum")).reset_index())
    age = (T - pair_days.ds).dt.days.to_numpy()
    decay = np.array([math.pow(p["decay"], k) for k in range(p["window_days"])])  # the libm pow DuckDB calls
    pair_days = pair_days.assign(age=age, recent=age <= p["realgraph_days"],
                                 decayed=pair_days.n.to_numpy() * decay[age - 1])
    pair_batch = pair_days.groupby(["viewer_id", "author_id"]).agg(
        va_engagements_50d=("n", "sum"), va_favorite_50d=("n_favorite", "sum"), va_negative_50d=("n_negative", "sum"),
        va_engaged_days_31d=("recent", "sum"), va_days_since_last_engagement=("age", "min"))
    pair_batch["va_decayed_engagements"] = _decimal_sum(pair_days, ["viewer_id", "author_id"], "decayed")
    followers = follows[(follows.ds <= T) & (follows.ts < T)].groupby("destination_id").source_id.nunique()
    first_follow = (follows[follows.ds <= T].rename(columns={"source_id": "viewer_id", "destination_id": "author_id"})
                    .merge(pairs).groupby(["viewer_id", "author_id"]).ts.min().rename("follow_ts"))
    batch = (f.join(past_imp.groupby("viewer_id").size().rename("v_impressions_50d"), on="viewer_id")
             .join(_type_counts(by_viewer, "user_id", V_50D, "v_{}_50d"), on="viewer_id")
             .join(past_imp.groupby("author_id").size().rename("a_impressions_50d"), on="author_id")
             .join(_type_counts(past_eng, "author_id", A_50D, "a_{}_50d"), on="author_id")
             .join(followers.rename("a_followers"), on="author_id")
             .join(users[users.ds == T].set_index("user_id").is_verified.rename("a_is_verified"), on="author_id")
             .join(past_imp.groupby(["viewer_id", "author_id"]).size().rename("va_impressions_50d"),
                   on=["viewer_id", "author_id"])
             .join(pair_batch, on=["viewer_id", "author_id"]))
    # coalesce(x, 0) of every batch aggregate, false for a missing user, window_days for a pair never engaged
    f = batch.fillna({**{c: 0 for c in batch.columns[len(f.columns):]}, "a_is_verified": False,
                      "va_days_since_last_engagement": p["window_days"]})
    f = f.join(first_follow, on=["viewer_id", "author_id"])
    # real time: viewer counts over [ts - 24 h, ts), the tweet's counters before ts, from the days they can fall on
    ve, vi = between(eng, -1, 0), between(imps, -1, 0)
    viewer_events = _stream(ve[ve.user_id.isin(imp.viewer_id) & (ve.engagement_type != REBYA)], "user_id",
                            vi[vi.viewer_id.isin(imp.viewer_id)], "viewer_id", V_1D)
    hours = pd.Timedelta(hours=p["realtime_hours"])
    v_1d = _before(viewer_events, f.viewer_id, f.ts) - _before(viewer_events, f.viewer_id, f.ts - hours)
    te, ti = between(eng, -p["candidate_days"], 0), between(imps, -p["candidate_days"], 0)
    t_rt = _before(_stream(te[te.tweet_id.isin(imp.tweet_id)], "tweet_id", ti[ti.tweet_id.isin(imp.tweet_id)],
                           "tweet_id", ["favorite", "reply", "retweet"]), f.tweet_id, f.ts)
    ms = lambda s: s.to_numpy("datetime64[us]").astype("int64") // 1000  # noqa: E731  (date_diff('millisecond'))
    rt = lambda frame, col: frame[col].to_numpy()  # noqa: E731
    features = {
        "v_impressions_50d": f.v_impressions_50d, **{f"v_{t}_50d": f[f"v_{t}_50d"] for t in V_50D},
        "v_impressions_1d": rt(v_1d, "impressions"), **{f"v_{t}_1d": rt(v_1d, t) for t in V_1D},
        "a_impressions_50d": f.a_impressions_50d, **{f"a_{t}_50d": f[f"a_{t}_50d"] for t in A_50D},
        "a_followers": f.a_followers, "a_is_verified": f.a_is_verified,
        **{c: f[c] for c in ["va_impressions_50d", "va_engagements_50d", "va_favorite_50d", "va_negative_50d",
                             "va_engaged_days_31d", "va_decayed_engagements", "va_days_since_last_engagement"]},
        "t_favorites": rt(t_rt, "favorite"), "t_replies": rt(t_rt, "reply"), "t_retweets": rt(t_rt, "retweet"),
        "t_impressions": rt(t_rt, "impressions"),
        **{c: f[c] for c in CONTENT},
        "tweet_age_seconds": (ms(f.ts) - ms(f.tweet_ts)) / 1000.0,
        "in_network": f.follow_ts < f.ts,  # NaT (no follow) compares false
        "hour_of_day": f.ts.dt.hour,
    }
    feats = f[["impression_id", "viewer_id", "tweet_id", "author_id", "ts"]].assign(
        **{k: np.asarray(v, dtype="float64") for k, v in features.items()}, ds=day)
    done("impression_features", feats)

    # -- train_<head>: per-head downsampling by the fingerprint draw, weights undoing it ----------------------------
    both = feats.merge(labeled[["impression_id", *(h.column for h in HEADS.values())]], on="impression_id")
    ids = both.impression_id.to_numpy()
    for h, head in HEADS.items():
        pos, neg = map(_sql_double, keep_rates(head))
        salt = int(hashing.fingerprint64([h])[0])
        draw = hashing.uniform(ids, np.full(len(ids), salt), np.zeros(len(ids), dtype=np.int64))
        label = both[head.column].to_numpy()
        keep = draw < np.where(label == 1, pos, neg)
        done(f"train_{h}", both.loc[keep, feats.columns].assign(
            label=label[keep], weight=label[keep] / pos + (1 - label[keep]) / neg), "training_datasets")
    return {"imported": imported, "steps": steps}

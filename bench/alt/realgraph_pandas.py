"""One day of the Real Graph chain in pandas (+ NumPy for FARM_FINGERPRINT, feedtrain.hashing), from the day's
inputs exported as Parquet by the bench's setup, with every feature the assets compute."""

import datetime as dt
import math
import time
from pathlib import Path

from chain_day import BASIC_FEATURES, PAIR_FEATURES

FEATURES = BASIC_FEATURES + PAIR_FEATURES  # every feature the assets store, the harness's compared list


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from feedtrain import hashing
    from realgraph_assets.labels import BIT, EXPLICIT_MASK, VARIANTS
    from realgraph_assets.windows import DAILY_DECAY

    imported = time.time()
    src = home / "inputs"
    read = lambda t: pd.read_parquet(src / f"{t}.parquet")  # noqa: E731
    t, t1 = pd.Timestamp(day), pd.Timestamp(day + dt.timedelta(days=1))
    keys = ["source_id", "destination_id"]
    fingerprint = lambda frame: hashing.fingerprint64(hashing.pair_key(  # noqa: E731
        pa.array(frame.source_id.to_numpy()), pa.array(frame.destination_id.to_numpy())))
    steps, tables, clock = {}, {}, [time.time()]

    def done(name, frame):
        frame.to_parquet(out / f"{name}.parquet", index=False)
        tables[name] = frame
        steps[name] = time.time() - clock[0]
        clock[0] = time.time()

    raw = read("interaction_graph_labels_daily")
    raw = raw[raw.source_id != raw.destination_id]
    e = raw[keys].assign(name=raw["labels"]).explode("name")
    e["bit"] = e["name"].map(BIT).fillna(0).astype("int64")
    # OR of a pair's distinct bits = their sum (duplicate rows of a pair are unioned)
    new_days = (e.drop_duplicates().groupby(keys, sort=False)["bit"].sum().rename("label_mask").astype("int32")
                .reset_index())
    done("interaction_days", new_days)

    tweets = read("public_tweets")
    counts = tweets.groupby("user_id").size().rename("num_tweets")
    f = read("valid_user_follows")
    f = f[keys].join(counts, on="destination_id")
    f["num_tweets"] = f["num_tweets"].fillna(0).astype("int64")
    f["fp"] = fingerprint(f)  # ties broken by the pair's fingerprint, then destination_id, as the assets do
    f = f.sort_values(["source_id", "num_tweets", "fp", "destination_id"], ascending=[True, False, True, True])
    f["rn"] = f.groupby("source_id").cumcount() + 1
    done("tweeting_follows", f[f.rn <= 2000].drop(columns="fp").reset_index(drop=True))

    hist = read("interaction_days")
    hist["age"] = (t - pd.to_datetime(hist["ds"])).dt.days
    w = hist[hist.age <= 30].reset_index(drop=True)
    mask, age = w["label_mask"].to_numpy(), w["age"].to_numpy()
    # pow(0.955, age) as DECIMAL(18, 12), held as integer units of 1e-12: the sums are exact, as the assets' are
    units = np.rint(DAILY_DECAY ** age * 1e12).astype("int64")
    decayed_masks = {"decayed_days": -1, "decayed_explicit": EXPLICIT_MASK,
                     **{f"decayed_{n}": BIT[f"num_{n}"] for n in ["favorites", "replies", "retweets", "mentions",
                                                                "tweet_clicks", "profile_views"]}}
    # per label name, the pair's days with it: num_follows etc. are four of them; label_types = names seen at all
    agg = w[keys].assign(num_days=1, last_age=age, first_age=age, **{n: (mask & BIT[n] != 0) for n in BIT},
                         **{c: np.where(mask & m != 0, units, 0) for c, m in decayed_masks.items()}).groupby(
        keys, sort=False).agg(num_days=("num_days", "sum"), last_age=("last_age", "min"), first_age=("first_age", "max"),
                              **{n: (n, "sum") for n in BIT}, **{c: (c, "sum") for c in decayed_masks}).reset_index()
    agg["label_types"] = (agg[list(BIT)] > 0).sum(axis=1)
    total = agg.groupby("source_id")["decayed_days"].transform("sum")
    agg["source_share"] = (agg["decayed_days"] / 1e12) / (total / 1e12)
    agg["destination_in_degree"] = agg.groupby("destination_id")["source_id"].transform("size")
    reverse = agg[keys + ["decayed_days"]].rename(columns={"source_id": "destination_id", "destination_id": "source_id",
                                                            "decayed_days": "reciprocal_decayed_days"})
    agg = agg.merge(reverse, on=keys, how="left")
    p = agg.merge(tables["tweeting_follows"][keys + ["num_tweets"]], on=keys, how="outer")
    p["days_since_last_interaction"] = p["last_age"].fillna(30).astype("int64")
    p["days_since_first_interaction"] = p["first_age"].fillna(31).astype("int64")
    for c in ["num_days", "num_tweets", "label_types", "num_follows", "num_favorites", "num_tweet_clicks",
              "num_profile_views", "destination_in_degree"]:
        p[c] = p[c].fillna(0).astype("int64")
    for c in [*decayed_masks, "reciprocal_decayed_days"]:
        p[c] = p[c].fillna(0) / 1e12
    p["source_share"] = p["source_share"].fillna(0.0)
    history = hist[hist.age <= 90].groupby(keys, sort=False).size().rename("long_num_days")
    p = p.join(history, on=keys)
    p["long_num_days"] = p["long_num_days"].fillna(0).astype("int64")
    neg = read("interaction_graph_agg_negative_edge_snapshot")
    neg["ds"] = pd.to_datetime(neg["ds"])
    p = p.merge(neg.loc[neg.ds == t, keys].drop_duplicates().assign(_neg=True), on=keys, how="left")
    p = p[p._neg.isna()]
    p["fp"] = fingerprint(p)
    p = p.sort_values(["source_id", "num_days", "num_tweets", "fp", "destination_id"],
                      ascending=[True, False, False, True, True])
    p["rn"] = p.groupby("source_id", sort=False).cumcount() + 1
    cand = p[p.rn <= 2000][["rn", "source_id", "destination_id", *FEATURES]]
    done("candidates", cand.reset_index(drop=True))

    b = hashing.pair_bucket(pa.array(cand.source_id.to_numpy()), pa.array(cand.destination_id.to_numpy()))
    buckets = min(100, max(10, math.ceil(100 * 20000 / len(cand))))  # more buckets when 10 leave under 20,000 rows
    done("candidates_sampled", cand[b < buckets].reset_index(drop=True))

    next_neg = neg.loc[neg.ds == t1, keys].drop_duplicates().assign(_neg=True)
    for suffix, positive_mask in ((v.suffix, v.positive_mask) for v in VARIANTS.values()):
        s = tables["candidates_sampled"].merge(new_days, on=keys, how="left")
        s["label"] = ((s["label_mask"].fillna(0).astype("int64") & positive_mask) != 0).astype("int32")
        s = s.merge(next_neg, on=keys, how="left")
        s = s[s._neg.isna()]
        labeled = s[["source_id", "destination_id", "label", *FEATURES]]
        done(f"labeled_candidates{suffix}", labeled.reset_index(drop=True))

        past = read(f"labeled_candidates{suffix}").rename(columns={"ds": "label_ds"})[list(labeled) + ["label_ds"]]
        past["label_ds"] = pd.to_datetime(past["label_ds"])
        win = pd.concat([past, labeled.assign(label_ds=t)], ignore_index=True)
        y = win["label"].to_numpy()
        positives, negatives = int(y.sum()), int(len(y) - y.sum())  # every positive; negatives for a 5 % share,
        neg_rate = min(1.0, max(positives * 0.95 / 0.05 / negatives, (20000 - positives) / negatives))  # >= 20k rows
        days = ((win["label_ds"] - pd.Timestamp("1970-01-01")).dt.days).to_numpy()
        draw = hashing.uniform(pa.array(win.source_id.to_numpy()), pa.array(win.destination_id.to_numpy()),
                               pa.array(days), pa.array(np.zeros(len(win), np.int64)))
        kept = (y == 1) | (draw < neg_rate)
        train = win[kept].copy()
        train["weight"] = train["label"] / 1.0 + (1 - train["label"]) / neg_rate
        train["if_eval"] = hashing.user_bucket(pa.array(train.source_id.to_numpy()), 10) == 0
        train["label_ds"] = train["label_ds"].dt.date
        done(f"train{suffix}", train.reset_index(drop=True))
    return {"imported": imported, "steps": steps}

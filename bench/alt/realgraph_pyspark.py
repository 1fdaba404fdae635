"""One day of the Real Graph chain as a hand-written PySpark job in local mode, from the day's inputs exported as
Parquet by the bench's setup, with every feature the assets compute. FARM_FINGERPRINT is a pandas UDF over
feedtrain.hashing (Spark has no FarmHash). Each step writes its Parquet output and the next reads it back, as a job
of separate Spark SQL steps would."""

import datetime as dt
import time
from pathlib import Path

from chain_day import BASIC_FEATURES, PAIR_FEATURES, SPARK_DRIVER_MEMORY, jvm_cpu_seconds

# the DECIMAL sums (and the share of them), cast to DOUBLE once summed
DECAYED = ["decayed_days", "decayed_explicit", "decayed_favorites", "decayed_replies", "decayed_retweets",
           "decayed_mentions", "decayed_tweet_clicks", "decayed_profile_views", "reciprocal_decayed_days",
           "source_share"]
# every feature the assets store (the harness's compared list), in the order the labeled and train steps select them
FEATURES = ", ".join(BASIC_FEATURES + PAIR_FEATURES)


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import pandas_udf

    from feedtrain import hashing
    from realgraph_assets.labels import ALL_LABELS, BIT, EXPLICIT_MASK, VARIANTS
    from realgraph_assets.windows import DAILY_DECAY

    imported = time.time()
    steps, clock = {}, [time.time()]
    spark = (SparkSession.builder.master("local[*]").appName("realgraph_day")
             .config("spark.sql.shuffle.partitions", "8").config("spark.driver.memory", SPARK_DRIVER_MEMORY)
             .config("spark.ui.enabled", "false").config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.sql.warehouse.dir", str(out / "spark-warehouse")).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")

    @pandas_udf("long")
    def farm_fingerprint(s: pd.Series) -> pd.Series:
        return pd.Series(hashing.fingerprint64(pa.array(s, pa.string())))

    @pandas_udf("double")
    def fingerprint_uniform(s: pd.Series) -> pd.Series:
        return pd.Series(hashing.uniform_of_fingerprints(hashing.fingerprint64(pa.array(s, pa.string()))))

    spark.udf.register("farm_fingerprint", farm_fingerprint)
    spark.udf.register("fingerprint_uniform", fingerprint_uniform)
    for table in ["interaction_graph_labels_daily", "interaction_days", "valid_user_follows", "public_tweets",
                  "interaction_graph_agg_negative_edge_snapshot", "labeled_candidates", "labeled_candidates_explicit"]:
        spark.read.parquet(str(home / "inputs" / f"{table}.parquet")).createOrReplaceTempView(f"in_{table}")
    spark.createDataFrame([(n, BIT[n]) for n in ALL_LABELS], "name string, bit long").createOrReplaceTempView("label_bits")
    steps["spark_session"] = time.time() - clock[0]
    clock[0] = time.time()

    def step(name, query):
        spark.sql(query).write.mode("overwrite").parquet(str(out / f"{name}.parquet"))
        spark.read.parquet(str(out / f"{name}.parquet")).createOrReplaceTempView(name)
        steps[name] = time.time() - clock[0]
        clock[0] = time.time()

    t, t1 = f"DATE '{day}'", f"DATE '{day + dt.timedelta(days=1)}'"
    step("interaction_days", f"""
        SELECT e.source_id, e.destination_id, CAST(coalesce(bit_or(b.bit), 0) AS INT) AS label_mask
        FROM (SELECT source_id, destination_id, explode_outer(labels) AS name FROM in_interaction_graph_labels_daily
              WHERE ds = {t1} AND source_id <> destination_id) e
        LEFT JOIN label_bits b ON b.name = e.name GROUP BY e.source_id, e.destination_id""")
    step("tweeting_follows", f"""
        SELECT * FROM (
            SELECT f.source_id, f.destination_id, coalesce(c.num_tweets, 0) AS num_tweets,
                   row_number() OVER (PARTITION BY f.source_id ORDER BY coalesce(c.num_tweets, 0) DESC, f.fp,
                                      f.destination_id) AS rn
            FROM (SELECT *, farm_fingerprint(concat(source_id, '_', destination_id)) AS fp
                  FROM in_valid_user_follows WHERE ds = {t}) f
            LEFT JOIN (SELECT user_id, count(*) AS num_tweets FROM in_public_tweets GROUP BY user_id) c
              ON c.user_id = f.destination_id) WHERE rn <= 2000""")
    bit = lambda n: BIT[f"num_{n}"]  # noqa: E731
    decayed = lambda name, mask: (  # noqa: E731  -- DECIMAL weights: the sum is exact, whatever the order of addition
        f"coalesce(sum(w) FILTER (WHERE label_mask & {mask} <> 0), 0) AS decayed_{name}")
    step("candidates", f"""
        WITH d AS (
            SELECT source_id, destination_id, label_mask, datediff({t}, ds) AS age,
                   CAST(pow({DAILY_DECAY}, datediff({t}, ds)) AS DECIMAL(18, 12)) AS w
            FROM in_interaction_days WHERE ds BETWEEN date_sub({t}, 30) AND {t}),
        w AS (
            SELECT source_id, destination_id, count(*) AS num_days,
                   count_if(label_mask & {bit('follows')} <> 0) AS num_follows,
                   count_if(label_mask & {bit('favorites')} <> 0) AS num_favorites,
                   count_if(label_mask & {bit('tweet_clicks')} <> 0) AS num_tweet_clicks,
                   count_if(label_mask & {bit('profile_views')} <> 0) AS num_profile_views,
                   min(age) AS last_age, max(age) AS first_age, bit_count(bit_or(label_mask)) AS label_types,
                   sum(w) AS decayed_days, {decayed('explicit', EXPLICIT_MASK)},
                   {', '.join(decayed(n, bit(n)) for n in ['favorites', 'replies', 'retweets', 'mentions',
                                                          'tweet_clicks', 'profile_views'])}
            FROM d GROUP BY source_id, destination_id),
        src AS (SELECT source_id, sum(decayed_days) AS total FROM w GROUP BY source_id),
        dst AS (SELECT destination_id, count(*) AS destination_in_degree FROM w GROUP BY destination_id),
        x AS (
            SELECT w.*, coalesce(r.decayed_days, 0) AS reciprocal_decayed_days,
                   CAST(w.decayed_days AS DOUBLE) / CAST(src.total AS DOUBLE) AS source_share, dst.destination_in_degree
            FROM w JOIN src ON src.source_id = w.source_id JOIN dst ON dst.destination_id = w.destination_id
            LEFT JOIN w r ON r.source_id = w.destination_id AND r.destination_id = w.source_id),
        p AS (
            SELECT coalesce(x.source_id, f.source_id) AS source_id,
                   coalesce(x.destination_id, f.destination_id) AS destination_id,
                   coalesce(num_days, 0) AS num_days, coalesce(f.num_tweets, 0) AS num_tweets,
                   coalesce(last_age, 30) AS days_since_last_interaction,
                   coalesce(label_types, 0) AS label_types, coalesce(num_follows, 0) AS num_follows,
                   coalesce(num_favorites, 0) AS num_favorites, coalesce(num_tweet_clicks, 0) AS num_tweet_clicks,
                   coalesce(num_profile_views, 0) AS num_profile_views,
                   coalesce(first_age, 31) AS days_since_first_interaction,
                   {', '.join(f"CAST(coalesce({c}, 0) AS DOUBLE) AS {c}" for c in DECAYED)},
                   coalesce(destination_in_degree, 0) AS destination_in_degree
            FROM x FULL JOIN tweeting_follows f ON f.source_id = x.source_id AND f.destination_id = x.destination_id),
        h AS (  -- the pair's long history: interaction days over [T-90, T]
            SELECT source_id, destination_id, count(*) AS long_num_days FROM in_interaction_days
            WHERE ds BETWEEN date_sub({t}, 90) AND {t} GROUP BY source_id, destination_id),
        allowed AS (
            SELECT p.*, coalesce(h.long_num_days, 0) AS long_num_days,
                   farm_fingerprint(concat(p.source_id, '_', p.destination_id)) AS fp
            FROM p LEFT JOIN h ON h.source_id = p.source_id AND h.destination_id = p.destination_id
            LEFT ANTI JOIN (SELECT source_id, destination_id
                FROM in_interaction_graph_agg_negative_edge_snapshot WHERE ds = {t}) n
            ON n.source_id = p.source_id AND n.destination_id = p.destination_id)
        SELECT rn, source_id, destination_id, {FEATURES} FROM (
            SELECT row_number() OVER (PARTITION BY source_id ORDER BY num_days DESC, num_tweets DESC, fp,
                                      destination_id) AS rn, *
            FROM allowed)
        WHERE rn <= 2000""")
    step("candidates_sampled", """
        SELECT * FROM candidates
        WHERE abs(CAST(farm_fingerprint(concat(source_id, '_', destination_id)) AS DECIMAL(20, 0))) % 100
              < (SELECT least(100, greatest(10, ceil(100 * 20000 / count(*)))) FROM candidates)""")
    for suffix, mask in ((v.suffix, v.positive_mask) for v in VARIANTS.values()):
        step(f"labeled_candidates{suffix}", f"""
            SELECT s.source_id, s.destination_id, CAST(coalesce(i.label_mask, 0) & {mask} <> 0 AS INT) AS label,
                   {', '.join(f's.{c}' for c in FEATURES.split(', '))}
            FROM candidates_sampled s
            LEFT JOIN interaction_days i ON i.source_id = s.source_id AND i.destination_id = s.destination_id
            LEFT ANTI JOIN (SELECT source_id, destination_id FROM in_interaction_graph_agg_negative_edge_snapshot
                            WHERE ds = {t1}) n ON n.source_id = s.source_id AND n.destination_id = s.destination_id""")
        step(f"train{suffix}", f"""
            WITH w AS (
                SELECT source_id, destination_id, label, {FEATURES}, ds AS label_ds
                FROM in_labeled_candidates{suffix}
                UNION ALL SELECT *, {t} AS label_ds FROM labeled_candidates{suffix}),
            r AS (  -- every positive; negatives for a 5 % positive share, but at least 20,000 rows
                SELECT least(1.0D, greatest(sum(label) * 0.95D / 0.05D / sum(1 - label),
                                            (20000 - sum(label)) / CAST(sum(1 - label) AS DOUBLE))) AS neg_rate FROM w)
            SELECT w.*, label / 1.0D + (1 - label) / neg_rate AS weight,
                   abs(CAST(farm_fingerprint(CAST(source_id AS STRING)) AS DECIMAL(20, 0))) % 10 = 0 AS if_eval
            FROM w CROSS JOIN r
            WHERE fingerprint_uniform(concat_ws('_', source_id, destination_id, datediff(label_ds, DATE '1970-01-01'), 0))
                  < CASE WHEN label = 1 THEN 1.0D ELSE neg_rate END""")
    jvm_cpu = jvm_cpu_seconds(spark)
    spark.stop()
    return {"imported": imported, "steps": steps, "jvm_cpu": jvm_cpu}

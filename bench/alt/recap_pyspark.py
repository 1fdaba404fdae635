"""One day of Recap's chain as a PySpark job in local mode, from the raw days exported as Parquet by the bench's setup.

As ``recap_duckdb`` does, it runs the assets' SQL files (the hand-written SQL of this chain; ``user_days`` as a view
over the raw window), here translated to Spark SQL by the project's translator (feedtrain.engine.sql, the same text
the Spark engine runs), on a plain SparkSession without Dagster, checks or ledger; the per-head downsampling is Spark
SQL with the project's fingerprint pandas UDFs. Each step writes its Parquet output and the next reads it back, as a
job of separate steps would."""

import datetime as dt
import time
from pathlib import Path

from chain_day import SPARK_DRIVER_MEMORY, jvm_cpu_seconds
from recap_day import FEATURE_PARAMS, LABEL_PARAMS, SQL, rollup_window


def run(home: Path, day: dt.date, out: Path, _alt: str) -> dict:
    from pyspark.sql import SparkSession

    from feedtrain import hashing
    from feedtrain.engine import sql
    from feedtrain.engine.spark import SESSION_CONFIG, register_functions
    from recap_assets.heads import HEADS, LABEL_COLUMNS, keep_rates

    imported = time.time()
    steps, clock = {}, [time.time()]
    builder = SparkSession.builder.master("local[*]").appName("recap_day")
    # UTC, timestamps without time zone, the DuckDB meaning of division (feedtrain.engine.spark.SESSION_CONFIG)
    for key, value in {**SESSION_CONFIG, "spark.sql.shuffle.partitions": "8",
                       "spark.driver.memory": SPARK_DRIVER_MEMORY,
                       "spark.sql.warehouse.dir": str(out / "spark-warehouse")}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    register_functions(spark)
    for table in ["impressions", "engagements", "follows", "tweets", "users"]:
        spark.read.parquet(str(home / "inputs" / f"{table}.parquet")).createOrReplaceTempView(table)
    steps["spark_session"] = time.time() - clock[0]
    clock[0] = time.time()

    def spark_step(name, spark_sql, step_name=None):
        spark.sql(spark_sql).write.mode("overwrite").parquet(str(out / f"{name}.parquet"))
        spark.read.parquet(str(out / f"{name}.parquet")).createOrReplaceTempView(name)
        key = step_name or name
        steps[key] = steps.get(key, 0.0) + time.time() - clock[0]
        clock[0] = time.time()

    def step(name, duckdb_sql, params):  # an asset's SQL file, translated as the Spark engine translates it
        spark_step(name, sql.generate(sql.parse(duckdb_sql)[0], "spark", params))

    label_sql = (SQL / "impressions_labeled.sql").read_text() \
        .replace("{label_columns}", ", ".join(f"{h.label_sql} AS {h.column}" for h in HEADS.values())) \
        .replace("{label_outputs}", ", ".join(f"coalesce(l.{c}, false)::INTEGER AS {c}" for c in LABEL_COLUMNS))
    step("impressions_labeled", label_sql, {"ds": day, **LABEL_PARAMS})
    # no stored rollup, as in recap_duckdb: user_days is a view over the 50 raw days of the window
    spark.sql("CREATE OR REPLACE TEMP VIEW user_days AS "
              + sql.generate(sql.parse((SQL / "user_days.sql").read_text())[0], "spark", rollup_window(day)))
    step("impression_features", (SQL / "impression_features.sql").read_text(), {"ds": day, **FEATURE_PARAMS})
    for h, head in HEADS.items():
        pos, neg = keep_rates(head)
        salt = int(hashing.fingerprint64([h])[0])
        pos, neg = f"{pos!r}D", f"{neg!r}D"  # DOUBLE literals: Spark reads 0.05 as a DECIMAL
        spark_step(f"train_{h}", f"""
            SELECT f.*, l.{head.column} AS label, l.{head.column} / {pos} + (1 - l.{head.column}) / {neg} AS weight
            FROM impression_features f JOIN impressions_labeled l ON l.impression_id = f.impression_id
            WHERE fingerprint_uniform(concat_ws('_', f.impression_id, {salt}, 0))
                  < CASE WHEN l.{head.column} = 1 THEN {pos} ELSE {neg} END""", "training_datasets")
    jvm_cpu = jvm_cpu_seconds(spark)
    spark.stop()
    return {"imported": imported, "steps": steps, "jvm_cpu": jvm_cpu}

"""A whole simulated day through Dagster, and the champion's promotion rule."""

import datetime as dt

import polars as pl

from conftest import D
from feedtrain import training

MODELS = ["boosted_trees", "light_ranker", "boosted_trees_explicit", "light_ranker_explicit"]
SAMPLE_ALL = {"candidates_sampled": {"sample_percent": 100}}


def materialize_world(h, model_day=D(36)):
    """Everything the models of ``model_day`` need: events to T+2, labels to T+1, the train set of T."""
    last = model_day + dt.timedelta(days=2)
    h.materialize(["group:realgraph_sources"], D(0), last)
    h.materialize(["interaction_days"], D(0), last)
    h.materialize(["tweeting_follows"], D(3), last)
    h.materialize(["candidates", "candidates_sampled"], D(30), last, config=SAMPLE_ALL)
    h.materialize(["labeled_candidates", "labeled_candidates_explicit"], D(30), last - dt.timedelta(days=1))
    h.materialize(["train", "train_explicit"], model_day)


def test_a_whole_day_materialises_end_to_end(realgraph):
    materialize_world(realgraph)
    result = realgraph.materialize(MODELS, D(36))
    assert result.success
    metrics = realgraph.frame("SELECT * FROM model_evaluations")
    assert set(metrics["model"]) == {"boosted_trees", "light_ranker", "num_days_heuristic", "recency", "decayed_count",
                                     "reciprocity", "oracle"}
    # every baseline is scored on the model's holdout rows
    assert metrics.group_by("ds", "variant").agg(pl.col("rows").n_unique())["rows"].max() == 1
    assert set(metrics["variant"]) == {"prod", "prod_explicit"}
    assert (metrics["holdout_ds"] == D(37)).all()
    assert metrics.filter(pl.col("model") == "oracle")["auc"].min() > 0.6  # the planted signal is learnable
    mats = {m.asset_key.path[-1]: m for m in result.get_asset_materialization_events()}
    meta = mats["boosted_trees"].materialization.metadata
    assert {"auc", "comparison", "feature_importance", "model_path"} <= set(meta)
    model = training.load_model(meta["model_path"].value)
    # ids are not features by default (include_id_features), the SPEC's other eight come first
    assert model.features[:8] == ["num_days", "num_tweets", "num_follows", "num_favorites", "num_tweet_clicks",
                                  "num_profile_views", "days_since_last_interaction", "label_types"]
    # the default monotone constraints reach LightGBM (Dagster ignored a nested config's default_factory: they did not)
    constraints = dict(zip(model.features, model.manifest["params"]["monotone_constraints"]))
    assert constraints["num_days"] == 1 and constraints["days_since_last_interaction"] == -1
    assert constraints["source_share"] == 0
    assert {"decayed_days", "reciprocal_decayed_days", "source_share", "destination_in_degree"} <= set(model.features)
    assert meta["ece"].value < 0.1 and meta["best_baseline"].value in {"num_days_heuristic", "recency",
                                                                        "decayed_count", "reciprocity"}
    holdout = realgraph.frame("SELECT * FROM labeled_candidates WHERE ds = ?", [D(37)])
    auc = training.evaluate(holdout["label"].to_numpy(), model.predict(holdout))["auc"]
    assert abs(auc - meta["auc"].value) < 1e-9  # the stored model is the evaluated model


def test_champion_is_promoted_only_within_the_margin(realgraph):
    materialize_world(realgraph, model_day=D(37))
    realgraph.materialize(["train", "train_explicit"], D(36))
    realgraph.materialize(MODELS, D(36), D(37))  # both model days in one run

    def decisions(margin):
        realgraph.materialize(["champion"], D(0), config={"champion": {"max_auc_drop": margin,
                                                                       "must_beat_baselines": False}})
        return realgraph.frame("SELECT * FROM champion_decisions WHERE model = 'boosted_trees' ORDER BY ds")

    strict = decisions(-1.0)  # a challenger would need an AUC one point above the champion's: never
    assert strict["promoted"].to_list() == [True, False] and strict["reason"][0] == "first model"
    assert (realgraph.home / "models/realgraph/boosted_trees/CHAMPION").read_text().strip() == D(36).isoformat()
    lenient = decisions(1.0)
    assert lenient["promoted"].to_list() == [True, True]
    assert (realgraph.home / "models/realgraph/boosted_trees/CHAMPION").read_text().strip() == D(37).isoformat()
    # The champion is scored on the challenger's holdout: day 36's model on day 38's labeled candidates.
    old = training.load_model(realgraph.home / "models/realgraph/boosted_trees" / D(36).isoformat())
    holdout = realgraph.frame("SELECT * FROM labeled_candidates WHERE ds = ?", [D(38)])
    expected = training.evaluate(holdout["label"].to_numpy(), old.predict(holdout))["auc"]
    assert abs(lenient["champion_auc"][1] - expected) < 1e-12


def test_champion_refuses_a_model_that_loses_to_a_baseline(realgraph):
    materialize_world(realgraph, model_day=D(36))
    realgraph.materialize(MODELS, D(36))
    model_auc = realgraph.sql("SELECT auc FROM model_evaluations WHERE ds = ? AND variant = 'prod' "
                              "AND model = 'boosted_trees'", [D(36)])[0][0]
    realgraph.execute("UPDATE model_evaluations SET auc = ? WHERE ds = ? AND variant = 'prod' AND model = 'recency'",
                      [model_auc + 0.001, D(36)])  # a baseline that scores better on the same holdout
    realgraph.materialize(["champion"], D(0))
    [row] = realgraph.frame("SELECT * FROM champion_decisions WHERE model = 'boosted_trees'").iter_rows(named=True)
    assert not row["promoted"] and "recency baseline" in row["reason"]
    assert not (realgraph.home / "models/realgraph/boosted_trees/CHAMPION").exists()


def test_sparse_world_runs_end_to_end_with_default_config(feedtrain_home):
    """A Q&A-shaped log (no follows, tweets or negative edges; ~0.5 % next-day rate): every layer commits every day
    with the default config, and the models are scored beside the baselines."""
    from conftest import Harness
    from realgraph_assets.definitions import defs
    from feedtrain.logsource import LogSource
    from realgraph_assets.resources import SQL_DIR, RealGraphSimulator

    h = Harness(feedtrain_home, defs, "realgraph", str(SQL_DIR / "schema.sql"),
                {"simulator": RealGraphSimulator(preset="sparse_tiny", seed=7), "log_source": LogSource()})
    last = D(38)
    h.materialize(["group:realgraph_sources", "interaction_days"], D(0), last)
    h.materialize(["tweeting_follows"], D(3), last)
    h.materialize(["candidates", "candidates_sampled"], D(30), last)
    h.materialize(["labeled_candidates", "labeled_candidates_explicit"], D(30), D(37))
    h.materialize(["train", "train_explicit"], D(36))
    h.materialize(MODELS, D(36))
    rates = h.frame("SELECT ds, avg(label) AS rate, count(*) AS n FROM labeled_candidates GROUP BY ds")
    assert rates.height == 8 and rates["rate"].mean() < 0.03  # sparse: a few positives among ~1,000 rows a day
    assert h.sql("SELECT count(*) FROM candidates_sampled")[0][0] == h.sql("SELECT count(*) FROM candidates")[0][0]
    models = {m for (m,) in h.sql("SELECT DISTINCT model FROM model_evaluations WHERE ds = ?", [D(36)])}
    assert {"boosted_trees", "light_ranker", "recency", "reciprocity"} <= models

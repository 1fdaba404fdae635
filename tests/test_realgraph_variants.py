"""Adding a Real Graph label variant is one entry in labels.VARIANTS: its labeled candidates, train set, models and
champion are built, its tables made, and the simulator's planted column joins the stored raw table, on a warehouse
built without it (docs/realgraph.md, *Adding a label variant*)."""

import os
import subprocess
import sys

from conftest import D
from realgraph_assets.labels import BIT

SAMPLE_ALL = {"candidates_sampled": {"sample_percent": 100}}

# The one step of adding a variant (a model of "A favorites B's tweet tomorrow"): its entry in labels.VARIANTS, made
# before the location is imported, as an edit of labels.py would be. Then the next day's raw logs and the variant's
# layers are built on the warehouse of the parent test.
ADD_VARIANT = r'''
import sys
from pathlib import Path

from realgraph_assets import labels

labels.VARIANTS["prod_favorite"] = labels.Variant("_favorite", ("num_favorites",), "a favorite", "p_favorite")

from conftest import D, realgraph_harness

h = realgraph_harness(Path(sys.argv[1]))
h.materialize(["group:realgraph_sources"], D(38))
h.materialize(["interaction_days"], D(38))
h.materialize(["labeled_candidates_favorite"], D(30), D(37))
h.materialize(["train_favorite"], D(36))
h.materialize(["boosted_trees_favorite", "light_ranker_favorite"], D(36))
h.materialize(["champion_favorite"], D(36))
'''


def test_adding_a_label_variant_is_one_entry(realgraph):
    h = realgraph
    h.materialize(["group:realgraph_sources"], D(0), D(37))
    h.materialize(["interaction_days"], D(0), D(37))
    h.materialize(["tweeting_follows"], D(3), D(37))
    h.materialize(["candidates", "candidates_sampled"], D(30), D(37), config=SAMPLE_ALL)
    assert "p_favorite" not in {c for (c,) in h.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = "
                                                     "'planted_interaction_probability'")}

    run = subprocess.run([sys.executable, "-c", ADD_VARIANT, str(h.home)], text=True, capture_output=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(["tests", os.environ.get("PYTHONPATH", "")])})
    assert run.returncode == 0, run.stderr[-3000:]

    # the planted raw table gained the variant's column: NULL on the days loaded before, the oracle after
    (before, after), = h.sql("SELECT count(p_favorite) FILTER (WHERE ds = ?), count(p_favorite) FILTER (WHERE ds = ?) "
                             "FROM planted_interaction_probability", [D(37), D(38)])
    assert before == 0 and after > 0
    # its labels follow its positive labels: 1 iff A favorited B on T+1
    (rows, positives, wrong), = h.sql(f"""
        SELECT count(*), sum(l.label), count(*) FILTER (WHERE l.label <> (coalesce(i.label_mask, 0) & {BIT['num_favorites']} <> 0)::INTEGER)
        FROM labeled_candidates_favorite l LEFT JOIN interaction_days i
          ON i.ds = l.ds + 1 AND i.source_id = l.source_id AND i.destination_id = l.destination_id""")
    assert rows > 0 and 0 < positives < rows and wrong == 0
    (any_positives,), = h.sql("SELECT count(*) FROM labeled_candidates_favorite l JOIN interaction_days i ON "
                              "i.ds = l.ds + 1 AND i.source_id = l.source_id AND i.destination_id = l.destination_id")
    assert positives < any_positives  # a favorite is rarer than any interaction: a different problem
    assert h.sql("SELECT count(DISTINCT ds) FROM labeled_candidates_favorite") == [(8,)]
    assert h.sql("SELECT count(*) > 0 FROM train_favorite WHERE ds = ?", [D(36)]) == [(True,)]
    evaluations = dict(h.sql("SELECT model, auc FROM model_evaluations WHERE variant = 'prod_favorite' AND ds = ?",
                             [D(36)]))
    assert {"boosted_trees", "light_ranker", "oracle", "num_days_heuristic"} <= set(evaluations)
    assert evaluations["oracle"] > 0.6 and evaluations["boosted_trees"] > 0.55
    assert h.sql("SELECT model FROM champion_decisions WHERE variant = 'prod_favorite' ORDER BY model") == [
        ("boosted_trees",), ("light_ranker",)]


def test_a_variant_table_made_before_a_new_feature_gains_its_column(realgraph):
    from realgraph_assets.location import variant_table

    with realgraph.warehouse.connect() as conn:  # a warehouse whose explicit table predates long_num_days
        conn.execute("CREATE TABLE labeled_candidates_explicit AS SELECT * EXCLUDE (long_num_days) FROM labeled_candidates")
        assert "long_num_days" not in dict(conn.table_columns("labeled_candidates_explicit"))
        variant_table(conn, "labeled_candidates_explicit", "labeled_candidates")
        assert dict(conn.table_columns("labeled_candidates_explicit")) == dict(conn.table_columns("labeled_candidates"))

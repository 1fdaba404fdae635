"""The Real Graph light ranker's solver: L-BFGS (scikit-learn's default) against Newton-Cholesky (what
feedtrain/training.py uses), the same train sets and holdouts, time and holdout AUC per variant and day.

    python -m realgraph_assets.demo seed --home /tmp/mp_default --world default --model-days 4   # the tables
    python bench/light_ranker_solver.py --home /tmp/mp_default

Every day of the home's train sets whose holdout (labeled candidates of T+1) exists is fitted with both solvers
through ``training.fit_light_ranker`` (the solver swapped in for the comparison) and scored on that holdout.
"""

import argparse
import os
import sys
import time
import unittest.mock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a FEEDTRAIN_HOME holding Real Graph train sets")
    args = parser.parse_args()
    os.environ["FEEDTRAIN_HOME"] = str(args.home)

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from feedtrain import training
    from realgraph_assets import models
    from realgraph_assets.resources import realgraph_warehouse

    features = models.FEATURES[2:] + [training.WEEKDAY_FACTOR]
    print("| variant | day | train rows | L-BFGS (s) | AUC | Newton-Cholesky (s) | AUC |\n|---|---|---|---|---|---|---|")
    with realgraph_warehouse().connect() as conn:
        for variant, suffix in (("prod", ""), ("prod_explicit", "_explicit")):
            days = [d for (d,) in conn.rows(f"SELECT DISTINCT ds FROM train{suffix} WHERE ds + 1 IN "
                                            f"(SELECT ds FROM labeled_candidates{suffix}) ORDER BY ds")]
            for day in days:
                train, holdout = models.load_inputs(conn, suffix, day)
                cells = []
                for solver in ("lbfgs", "newton-cholesky"):
                    def with_solver(_chosen=solver, **kw):  # overrides the solver fit_light_ranker passes
                        return LogisticRegression(**{**kw, "solver": _chosen})

                    with unittest.mock.patch("sklearn.linear_model.LogisticRegression", with_solver):
                        started = time.perf_counter()
                        fitted = training.fit_light_ranker(train, features, train["if_eval"].to_numpy(), 1.0,
                                                           models.WEEKDAY_RULE)
                        seconds = time.perf_counter() - started
                    auc = roc_auc_score(holdout["label"].to_numpy(), fitted.predict(holdout))
                    cells += [f"{seconds:.2f}", f"{auc:.5f}"]
                print(f"| {variant} | {day} | {train.height:,} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

"""The realgraph_assets code location."""

import dagster as dg

from feedtrain import automation
from feedtrain.modelstore import ModelStore

from . import candidates, champion, labeled_candidates, models, sources, training_sets
from .resources import RealGraphSimulator, realgraph_warehouse

warehouse = realgraph_warehouse()

defs = dg.Definitions(
    # A run's steps go one at a time anyway (one writer per DuckDB file, dagster.yaml's pool limit), so a process per
    # step would only add ~7 s of start-up to each: a 4-model run took 35 s that way and 4 s in process.
    executor=dg.in_process_executor,
    assets=dg.load_assets_from_modules([sources, candidates, labeled_candidates, training_sets, models, champion]),
    sensors=[automation.sensor("realgraph")],
    resources={"warehouse": warehouse, "model_store": ModelStore(location="realgraph"), "simulator": RealGraphSimulator()},
)

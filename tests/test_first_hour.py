"""What a new user meets in the first hour: a model day asked for before its inputs exist, the seed's partitions."""

import datetime as dt

import dagster as dg

from feedtrain.driver import group
from recap_assets import report
from recap_assets.definitions import ALL_ASSETS
from recap_assets.windows import recap_model_partitions


def test_recap_model_day_without_inputs_names_the_missing_days(tmp_path, monkeypatch):
    """On an empty warehouse (no feature or training table created yet) the models fail with the upstream check's
    message naming the missing tables and days, not DuckDB's "Catalog Error: Table ... does not exist"."""
    monkeypatch.setenv("FEEDTRAIN_HOME", str(tmp_path))
    day = recap_model_partitions.start.date()
    result = dg.materialize(ALL_ASSETS, selection=group("recap_models"),
                            resources=report.resources(tmp_path, "tiny", 11), partition_key=day.isoformat(),
                            raise_on_error=False)
    assert not result.success
    message = str(result.get_step_failure_events()[0].event_specific_data.error)
    assert "Catalog Error" not in message
    first_train_day = day - dt.timedelta(days=20)
    assert "train_favorited missing" in message and first_train_day.isoformat() in message, message

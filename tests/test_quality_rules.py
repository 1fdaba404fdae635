"""Issue 12's rules on tiny data: the positive-rate band, training-set sizing, baselines, ECE."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from feedtrain import checks
from feedtrain.warehouse import Warehouse

DAY = dt.date(2026, 6, 15)


@pytest.fixture
def engine(tmp_path):
    ddl = tmp_path / "schema.sql"
    ddl.write_text("CREATE TABLE IF NOT EXISTS labeled (label INTEGER, ds DATE);")
    with Warehouse(database=str(tmp_path / "w.duckdb"), schema_name="t", ddl_path=str(ddl)).connect() as conn:
        yield conn


def stage_day(engine, rows: int, positives: int, name="day_rows"):
    engine.register("labels_arrow", pa.table({"label": np.r_[np.ones(positives), np.zeros(rows - positives)].astype(np.int32)}))
    engine.stage(name, "SELECT label, $d::DATE AS ds FROM labels_arrow", {"d": DAY})
    return name


def commit_history(engine, rates, rows=3_000):
    """Committed labeled days before DAY with the given positive rates."""
    for i, rate in enumerate(rates):
        day = DAY - dt.timedelta(days=len(rates) - i)
        k = round(rate * rows)
        engine.register("labels_arrow", pa.table({"label": np.r_[np.ones(k), np.zeros(rows - k)].astype(np.int32)}))
        engine.stage("hist", "SELECT label, $d::DATE AS ds FROM labels_arrow", {"d": day})
        engine.replace_days(day, {"labeled": "hist"})


def check(engine, rows, positives):
    trailing = checks.trailing_positives(engine, "labeled", DAY, 14)
    return checks.positive_rate_in_band(engine, stage_day(engine, rows, positives), checks.RateBand(), trailing)


@pytest.mark.parametrize("rate", [0.002, 0.0035, 0.005, 0.008, 0.01])
def test_a_real_day_to_day_swing_of_a_sparse_log_passes(engine, rate):
    commit_history(engine, [0.005, 0.003, 0.007, 0.004, 0.006, 0.005, 0.009, 0.002] * 2)
    assert check(engine, 3_000, round(rate * 3_000)).passed


@pytest.mark.parametrize("rows,positives", [(3_000, 0), (3_000, 3_000), (3_000, 150), (20_000, 1_000)])
def test_a_broken_join_fails(engine, rows, positives):  # all negative, all positive, a 10x jump
    commit_history(engine, [0.005] * 14)
    assert not check(engine, rows, positives).passed


# An e-mail log's next-day rate: ~10 % when T+1 is a working day, ~0.5 % when it is a weekend day (~20x).
WEEK = [0.1, 0.1, 0.1, 0.1, 0.005, 0.005, 0.1]  # DAY - 14 .. DAY - 8; DAY's own weekday is the first entry


@pytest.mark.parametrize("history,rate", [(WEEK, 0.1), (WEEK[4:] + WEEK[:4], 0.005)])
def test_a_weekly_cycle_passes_on_the_days_it_repeats(engine, history, rate):
    commit_history(engine, history * 2)  # DAY - 14 and DAY - 7 had ``rate``
    result = check(engine, 3_000, round(rate * 3_000))
    assert result.passed, result.description


def test_a_weekend_rate_on_a_working_day_fails(engine):
    commit_history(engine, WEEK * 2)  # DAY's weekday ran at 10 %
    result = check(engine, 3_000, 15)
    assert not result.passed and "same weekday 0.1" in result.description


def test_a_weekly_cycle_fails_the_pooled_band_alone(engine):  # why the weekday reference is there
    commit_history(engine, WEEK * 2)
    trailing = checks.trailing_positives(engine, "labeled", DAY, 14)
    no_weekday = trailing._replace(weekday_rows=0, weekday_positives=0)
    assert not checks.positive_rate_in_band(engine, stage_day(engine, 3_000, 15), checks.RateBand(), no_weekday).passed


def test_less_than_a_week_of_history_only_gets_floor_and_ceiling(engine):
    commit_history(engine, [0.005, 0.005])  # then the working days' 10 % (a 20x jump) must not block the chain
    result = check(engine, 3_000, 300)
    assert result.passed and "too little trailing history (2 days" in result.description


def test_a_thin_day_with_no_positive_passes_when_that_is_plausible(engine):
    commit_history(engine, [0.005] * 14)
    assert check(engine, 200, 0).passed  # one positive expected: zero is ordinary noise


def test_without_history_the_floor_and_ceiling_still_hold(engine):
    assert check(engine, 3_000, 30).passed
    assert not check(engine, 100_000, 0).passed
    assert not check(engine, 3_000, 3_000).passed


def test_the_message_keeps_significant_digits(engine):
    commit_history(engine, [0.01] * 14, rows=100_000)
    result = check(engine, 103_000, 10)
    assert not result.passed
    assert result.description.startswith("positive rate 9.71e-05 (10 of 103000 rows)")

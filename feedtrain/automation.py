"""How each location builds its new days by itself (README "Scheduling"), and who owns the assets.

The raw logs of yesterday land at 01:00 UTC; every other asset materialises its newest partition as soon as that
partition's inputs all exist and one of them was updated. The per-layer end offsets of each location's windows make
"newest partition" mean the newest day whose inputs can exist: nothing is ever built from a day that has not happened
yet.
"""

import dagster as dg

OWNERS = ["team:ranking-data"]
LANDS_DAILY = dg.AutomationCondition.on_cron("0 1 * * *", "UTC")
# eager(): the newest day is built once all its inputs exist and one was updated. Or'ed with: the asset's code version
# changed (the UI then shows its days as stale, docs/consistency.md), so the newest day is rebuilt with the new code.
CODE_CHANGED = (dg.AutomationCondition.in_latest_time_window() & dg.AutomationCondition.code_version_changed()
                & ~dg.AutomationCondition.any_deps_missing() & ~dg.AutomationCondition.in_progress()
                ).with_label("code_version_changed")
WHEN_INPUTS_READY = dg.AutomationCondition.eager() | CODE_CHANGED

# For an unpartitioned asset that reads every model day (a champion): eager() would wait forever, since some days never
# get a model. Re-decide after any model day is updated, once no model step is still running.
AFTER_ANY_MODEL = (dg.AutomationCondition.any_deps_updated().since_last_handled()
                   & ~dg.AutomationCondition.any_deps_in_progress() & ~dg.AutomationCondition.in_progress())


def sensor(location: str) -> dg.AutomationConditionSensorDefinition:
    """The location's automation sensor: off until a user turns it on under Automation in the UI."""
    return dg.AutomationConditionSensorDefinition(
        f"{location}_automation", target=dg.AssetSelection.all(), default_status=dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=60,
        description="Builds each day as soon as its inputs exist (raw logs at 01:00 UTC, then each layer in turn). "
                    "Off by default; turn it on under Automation.")

"""End to end through the Dagster UI: Playwright drives Debian's chromium against a real, seeded `dagster dev`
(tests/dagster_server.py). Materialise one model partition and backfill three label days from the asset pages, wait
for them through GraphQL, and check in the browser what a user sees: success, passed checks, metadata and plots.

Screenshots of every step go to tests/artifacts/ (git-ignored, kept by CI); on failure also the page's HTML.
"""

import re
import shutil
import time
import traceback

import pytest
from dagster_server import ARTIFACTS, BACKFILL_SUCCESS_STATUSES
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytest_plugins = ["dagster_server"]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
UI_TIMEOUT_MS = 30_000
expect.set_options(timeout=UI_TIMEOUT_MS)
MODEL = "realgraph/boosted_trees"
LABELS = "realgraph/labeled_candidates"
PLOTS = ["roc_curve", "calibration_curve", "feature_importance_plot"]
MATERIALIZE = re.compile(r"Materialize…$")  # the button's accessible name starts with its icon's label

PARTITION_KEYS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { __typename
    ... on AssetNode { partitionKeysByDimension { partitionKeys } } } }"""
CHECKS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { __typename ... on AssetNode {
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } } } } }"""


def partition_keys(server, asset: str) -> list[str]:
    node = server.graphql(PARTITION_KEYS, {"key": {"path": asset.split("/")}})["assetNodeOrError"]
    return node["partitionKeysByDimension"][0]["partitionKeys"]


class Steps:
    """Screenshots named by step; on failure a screenshot and the HTML of the page."""

    def __init__(self, page: Page):
        self.page, self.n = page, 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("ui_*"):
            old.unlink()

    def dismiss_community_modal(self) -> None:
        skip = self.page.get_by_role("button", name="Skip", exact=True)
        if skip.is_visible():
            skip.click()
            expect(skip).to_be_hidden()

    def shot(self, name: str, full_page: bool = False) -> None:
        self.dismiss_community_modal()
        # dialogs fade in and out (Blueprint overlay transitions): wait until none is moving
        self.page.wait_for_function(
            "() => !document.querySelector('[class*=overlay-enter-active], [class*=overlay-exit-active]')")
        self.page.wait_for_timeout(300)
        self.n += 1
        self.page.screenshot(path=str(ARTIFACTS / f"ui_{self.n:02d}_{name}.png"), full_page=full_page)

    def failure(self) -> None:
        try:
            self.page.screenshot(path=str(ARTIFACTS / "ui_failure.png"), full_page=True)
            (ARTIFACTS / "ui_failure.html").write_text(self.page.content())
            (ARTIFACTS / "ui_failure.txt").write_text(f"{self.page.url}\n\n{traceback.format_exc()}")
        except Exception as e:  # the page may be gone; keep the original error
            print(f"could not save the failure artifacts: {e!r}")


def open_materialize_dialog(page: Page, server, asset: str):
    page.goto(f"{server.url}/assets/{asset}")
    page.get_by_role("button", name=MATERIALIZE).click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog).to_be_visible()
    return dialog


def select_partitions(dialog, selection: str, count: int) -> None:
    box = dialog.get_by_role("textbox").first  # the partition box; its placeholder depends on the selection
    box.fill(selection)
    box.press("Enter")
    expect(dialog.get_by_text(f"{count} partition{'s' if count > 1 else ''}", exact=True)).to_be_visible()


def toast_id(page: Page, prefix: str) -> str:
    toast = page.get_by_text(re.compile(rf"^{prefix} \S+$")).first
    expect(toast).to_be_visible(timeout=UI_TIMEOUT_MS)
    return toast.inner_text().split()[-1]


def test_materialise_and_backfill_from_the_ui(request):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not on PATH: the browser test needs Debian's chromium (apt-get install chromium; "
                    ".ci/run installs it). Not skipping: a skip would hide a broken CI install.")
    server = request.getfixturevalue("dagster_dev")  # only once chromium is known to be there
    model_day = partition_keys(server, MODEL)[-1]  # the newest: the seed leaves its models to the user
    label_days = partition_keys(server, LABELS)[-3:]

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            steps = Steps(page)
            try:
                run_ui_steps(page, steps, server, model_day, label_days)
            except BaseException:
                steps.failure()
                raise
        finally:
            browser.close()


def run_ui_steps(page: Page, steps: Steps, server, model_day: str, label_days: list[str]) -> None:
    # Code locations: every location of workspace.yaml is listed and loaded.
    page.goto(f"{server.url}/locations")
    skip = page.get_by_role("button", name="Skip", exact=True)
    try:  # a fresh instance shows "Join the Dagster community" ~2 s after the first page loads
        skip.wait_for(state="visible", timeout=10_000)
        skip.click()
        expect(skip).to_be_hidden()
    except PlaywrightTimeoutError:
        print("no community modal on the first visit")
    # Should it show up later, dismiss it before any action (registered only now: a handler would have raced the
    # wait above).
    page.add_locator_handler(skip, lambda button: button.click())
    expect(page.get_by_text(re.compile(r"^\d+ code locations?$"))).to_have_text(
        f"{len(server.locations)} code location{'s' if len(server.locations) > 1 else ''}")
    for name in server.locations:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    expect(page.get_by_text("Loaded", exact=True)).to_have_count(len(server.locations))
    steps.shot("code_locations")

    # The asset graph.
    page.goto(f"{server.url}/asset-groups")  # "Lineage" in the navigation
    groups = ["realgraph_sources", "realgraph_candidates", "realgraph_training", "realgraph_models"]
    groups += ["recap_sources", "recap_models"] if "recap_assets" in server.locations else []
    for group in groups:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"fetching statuses"))).to_have_count(0)
    steps.shot("asset_graph")

    # One partition of a model asset: Materialize… -> the newest day -> "Launch 1 run".
    dialog = open_materialize_dialog(page, server, MODEL)
    steps.shot("model_asset_page_before")
    select_partitions(dialog, model_day, 1)
    steps.shot("materialize_dialog_one_partition")
    dialog.get_by_role("button", name=re.compile(r"Launch 1 run$")).click()
    prefix = toast_id(page, "Launched run")
    run_id = server.wait_for_run(lambda r: r["runId"].startswith(prefix), timeout=30)["runId"]

    # Meanwhile, a small backfill from the same dialog of another asset: three label days as a range. (Launched
    # before the run ends: the backfill daemon ticks every 30 s, the pool serialises the two runs' steps.)
    dialog = open_materialize_dialog(page, server, LABELS)
    select_partitions(dialog, f"[{label_days[0]}...{label_days[-1]}]", len(label_days))
    steps.shot("materialize_dialog_backfill")
    launched_at = time.time()
    dialog.get_by_role("button", name=re.compile(r"Launch backfill$")).click()
    backfill_id = toast_id(page, "Created backfill")

    run = server.wait_run(run_id, timeout=180)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS", f"UI run {run_id} ended {run['status']}\n{server.log_tail()}"
    assert tags.get("dagster/partition") == model_day and tags.get("dagster/from_ui") == "true", tags
    page.goto(f"{server.url}/runs/{run_id}")
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.get_by_text(f"partition: {model_day}", exact=True).first).to_be_visible()
    steps.shot("run_page")

    backfill = server.wait_backfill(backfill_id, timeout=240)
    runs = server.backfill_runs(backfill_id)
    print(f"\nUI run {run_id[:8]} ({MODEL} {model_day}): {run['endTime'] - run['startTime']:.1f}s; UI backfill "
          f"{backfill_id} ({LABELS} {label_days[0]}..{label_days[-1]}): {backfill['status']}, {len(runs)} run(s), "
          f"{time.time() - launched_at:.0f}s from click to completion")
    assert backfill["status"] in BACKFILL_SUCCESS_STATUSES, f"UI backfill {backfill_id}: {backfill}"
    assert runs and all(r["status"] == "SUCCESS" for r in runs), [(r["runId"], r["status"]) for r in runs]
    page.goto(f"{server.url}/runs/b/{backfill_id}")
    expect(page.get_by_text(f"{label_days[0]}...{label_days[-1]}", exact=True)).to_be_visible()
    expect(page.get_by_text("Succeeded", exact=True).first).to_be_visible()
    expect(page.get_by_text("100% completed", exact=True)).to_be_visible()
    steps.shot("backfill_page")

    # The labels' checks passed in that backfill, and the page says so.
    checks = server.graphql(CHECKS, {"key": {"path": LABELS.split("/")}})["assetNodeOrError"]
    latest = {c["name"]: c["executionForLatestMaterialization"] for c in checks["assetChecksOrError"]["checks"]}
    assert latest["upstream_days_present"]["status"] == "SUCCEEDED", latest
    assert latest["upstream_days_present"]["runId"] in {r["runId"] for r in runs}, latest
    page.goto(f"{server.url}/assets/{LABELS}?view=checks")
    expect(page.get_by_text("Succeeded", exact=True)).to_have_count(len(latest))
    page.get_by_text("upstream_days_present", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"checkDetail=upstream_days_present"))
    expect(page.get_by_text("Passed", exact=True)).to_be_visible()
    steps.shot("labels_checks")
    page.goto(f"{server.url}/assets/{LABELS}?view=lineage")
    expect(page.get_by_text("candidates_sampled", exact=True).first).to_be_visible()
    steps.shot("labels_lineage")

    # The labels' latest materialisation: its metadata.
    page.goto(f"{server.url}/assets/{LABELS}")
    expect(page.get_by_text("positive_rate", exact=True).first).to_be_visible()
    expect(page.get_by_text("Row count", exact=True).first).to_be_visible()
    steps.shot("labels_asset_page", full_page=True)

    # The model asset: metrics from the run launched above, and its plots (Markdown with an inline PNG).
    page.goto(f"{server.url}/assets/{MODEL}")
    expect(page.get_by_text(model_day, exact=True).first).to_be_visible()
    for key in ("auc", "pr_auc", "comparison"):
        # the metadata table's row of that key (nested tables, e.g. "comparison", come after it)
        expect(page.get_by_role("row").filter(has=page.get_by_text(key, exact=True)).first).to_be_visible()
    steps.shot("model_asset_page", full_page=True)
    # The ROC is also drawn inline, without opening anything (a short SVG: the UI inlines Markdown below 1,000 chars).
    roc = page.get_by_role("row").filter(has=page.get_by_text("roc", exact=True)).first.locator(
        "img[src^='data:image/svg+xml']")
    expect(roc).to_be_visible()
    assert roc.evaluate("img => img.complete ? img.naturalWidth : 0") > 100, "the inline ROC did not decode"
    for key in PLOTS:
        row = page.get_by_role("row").filter(has=page.get_by_text(key, exact=True)).first
        assert row.count() == 1, (
            f"model metadata {key!r} (Markdown with an inline data:image/png plot) is missing from {MODEL}: the plots "
            "are added to realgraph_assets by another change; this is the only assertion that depends on it")
        row.get_by_text("[Show Markdown]").click()
        plot = page.get_by_role("dialog").filter(has_text=key)
        image = plot.locator("img[src^='data:image/png']")
        expect(image).to_be_visible()
        width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
        assert width > 100, f"{key}: the inline PNG did not decode (naturalWidth {width})"
        steps.shot(f"model_plot_{key}")
        plot.get_by_role("button", name="Close", exact=True).click()
        expect(plot).to_be_hidden()

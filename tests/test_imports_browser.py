"""The Data import page in headless chromium: a real file through the real uploader, then the database."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from queries import facilities
from tests.browser import IDLE, VIEWPORT, ServedApp, copy_sqlite, open_page, screenshot, serve_dashboard

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def import_app(demo_engines, tmp_path_factory) -> Iterator[ServedApp]:
    """The app over a copy of the demo database of its own: this module writes to it."""
    folder = tmp_path_factory.mktemp("imports-app")
    database = copy_sqlite(demo_engines("sqlite").url.database, folder / "cityops.sqlite")
    with serve_dashboard(f"sqlite:///{database}", folder) as app:
        yield app
    shutil.rmtree(folder, ignore_errors=True)


def upload(page: Page, path, answer: str, tab: int = 0, wait_for: str = "[data-testid=stDataFrame]") -> None:
    """Sets the file and waits for the page's answer to it: the table and idle state of the last answer
    are already on the page when a second file goes in, so only the new answer's text says it arrived."""
    page.locator("input[type=file]").nth(tab).set_input_files(str(path))
    page.locator("[data-testid=stAlert]").filter(has_text=answer).first.wait_for(timeout=30_000)
    page.wait_for_selector(wait_for, timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)


# What the uploader shows in place of Streamlit's own English (ui.widgets.file_uploader's CSS): the text drawn
# after each of its two texts, and those texts' size (0: not seen).
UPLOADER_TEXTS = """() => [...document.querySelectorAll(
    '.st-key-import-beds-file-0 [data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p,'
    + '.st-key-import-beds-file-0 [data-testid=stFileUploaderDropzoneInstructions] span')]
  .map(e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content])"""


def uploader_texts(page: Page) -> list[str]:
    """The uploader's button and limit texts as a user sees them (Streamlit's own English hidden)."""
    shown = page.evaluate(UPLOADER_TEXTS)
    assert shown and all(size == "0px" for size, _ in shown), shown
    return [json.loads(content) for _, content in shown]


def test_the_uploader_speaks_the_pages_language(import_app: ServedApp, chromium: Browser):
    page = import_app.context(chromium, viewport=VIEWPORT).new_page()
    open_page(page, import_app.url("imports", lang="en"), ready=".st-key-import-beds-template button")
    assert uploader_texts(page) == ["Upload", "20 MB per file • CSV, XLSX"]
    screenshot(page, "imports-uploader-en")
    page.close()


def test_a_bed_sheet_through_the_browser(import_app: ServedApp, chromium: Browser, tmp_path):
    engine = import_app.engine
    first, second = sorted(facilities.hospital_codes(engine))[:2]
    before = facilities.bed_counts(engine, [first, second])
    page = import_app.context(chromium, viewport=VIEWPORT).new_page()
    open_page(page, import_app.url("imports"), ready=".st-key-import-beds-template button")
    assert page.locator("[data-testid=stBreadcrumbs], [class*='st-key-crumb-']").count() == 0  # no scope here
    assert uploader_texts(page) == ["上传", "单个文件不超过 20 MB • CSV, XLSX"]

    bad = tmp_path / "床位.csv"
    bad.write_bytes(f"医院编码,床位类型,总床位,占用床位\n{first},icu,10,12\nH9999,icu,5,1\n".encode("gbk"))
    upload(page, bad, answer="发现 2 处问题", wait_for=".st-key-import-beds-problems")
    problems = page.locator(".st-key-import-beds-problems").inner_text()
    assert problems.splitlines() == ["第 2 行：占用床位 12 多于总床位 10", "第 3 行：未知医院编码“H9999”"]
    assert page.locator(".st-key-import-beds-apply").count() == 0
    screenshot(page, "imports-problems")

    # the whole template sent back with two lines edited, as a department does
    whole = facilities.bed_counts(engine)[["hospital_code", "bed_type", "total", "occupied"]]
    edits = {(first, "icu"): (10, 8), (second, "general"): (900, 700)}
    lines = [",".join(map(str, edits.get((code, bed), (total, occupied)))).join([f"{code},{bed},", ""])
             for code, bed, total, occupied in whole.itertuples(index=False)]
    good = tmp_path / "床位-修正.csv"
    good.write_bytes("\n".join(["医院编码,床位类型,总床位,占用床位", *lines]).encode("gbk"))
    upload(page, good, answer=f"{len(whole)} 行数据(涉及 {whole['hospital_code'].nunique()} 个单位)检查无误："
                              f"2 行数值有变化")
    assert f"{len(whole) - 2} 行与现有数据相同" in page.locator("[data-testid=stAlert]").first.inner_text()
    # the changed lines first, then the unchanged (the grid redraws after the run: wait for its rows)
    shown = page.locator("[data-testid=stDataFrame] table tbody tr")
    expect(shown.nth(0)).to_contain_text(f"{first}", timeout=15_000)
    expect(shown.nth(1)).to_contain_text(f"{second}")
    expect(shown.nth(2)).to_contain_text("不变")
    assert "不变" not in shown.nth(0).inner_text() + shown.nth(1).inner_text()
    screenshot(page, "imports-preview")
    page.locator(".st-key-import-beds-apply button").click()
    page.wait_for_selector("[data-testid=stAlertContentSuccess]", timeout=30_000)
    assert "已写入 2 行有变化的数据" in page.locator("[data-testid=stAlertContentSuccess]").inner_text()
    screenshot(page, "imports-done")
    after = facilities.bed_counts(engine, [first, second]).set_index(["hospital_code", "bed_type"])
    # to_numpy(): pandas-stubs types a row-and-columns .loc as a DataFrame, though one row gives a Series
    assert after.loc[(first, "icu"), ["total", "occupied"]].to_numpy().tolist() == [10, 8]
    assert after.loc[(second, "general"), ["total", "occupied"]].to_numpy().tolist() == [900, 700]
    changed, counts = [(first, "icu"), (second, "general")], ["total", "occupied"]
    unchanged = before.set_index(["hospital_code", "bed_type"]).drop(changed)[counts]
    assert after.drop(changed)[counts].equals(unchanged)
    page.close()

"""The search page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium, against ``searchidx serve`` on the sample."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server, serving

from searchidx import Index

pytest.importorskip("starlette", reason="searchidx serve needs its extra: pip install 'searchidx[serve]'")
pytest.importorskip("uvicorn", reason="searchidx serve needs its extra: pip install 'searchidx[serve]'")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the test extra)")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium: apt-get install -y chromium chromium-driver"),
    pytest.mark.slow,  # a browser starts
]


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    # the driver given explicitly: Selenium must not try to download one
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(sample_index: Index) -> Iterator[Server]:
    with serving(sample_index.path) as running:
        yield running


def bare(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


def wait_for(browser: webdriver.Chrome, condition: object, what: str) -> object:
    return WebDriverWait(browser, 20).until(lambda _: condition(), message=f"the page never showed {what}")  # type: ignore[operator]


def status(browser: webdriver.Chrome) -> str:
    return str(browser.find_element(By.ID, "status").text)


def hits(browser: webdriver.Chrome) -> list:
    return browser.find_elements(By.CSS_SELECTOR, "#hits .hit")


def test_search_facet_similar_paging_and_article_with_keyboard_and_mouse(
    browser: webdriver.Chrome, server: Server, tmp_path: Path
):
    browser.get(f"{server.url}/")
    wait_for(browser, lambda: "articles indexed" in status(browser), "the index's size")
    browser.find_element(By.TAG_NAME, "body").send_keys("/")  # the search box from anywhere
    browser.switch_to.active_element.send_keys("nguoi", Keys.ENTER)  # "người", typed without diacritics
    wait_for(browser, lambda: status(browser).startswith("1–10 of 18"), "the first page of results")
    marks = browser.find_elements(By.CSS_SELECTOR, "#hits .snippet mark")
    assert marks and {bare(m.text) for m in marks} == {"nguoi"}
    for hit in hits(browser):
        assert hit.find_element(By.CSS_SELECTOR, ".title").text and hit.find_element(By.CSS_SELECTOR, ".meta").text
    screenshot = tmp_path / "page.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000

    browser.find_element(By.ID, "next").click()
    wait_for(browser, lambda: status(browser).startswith("11–18 of 18"), "the second page")
    assert len(hits(browser)) == 8 and browser.find_element(By.ID, "next").get_attribute("disabled")

    source = browser.find_element(By.CSS_SELECTOR, 'a.facet[data-facet="source"]')
    name, count = source.text.rsplit(None, 1)
    source.click()
    wait_for(browser, lambda: status(browser).startswith(f"1–{min(int(count), 10)} of {count}"), "the facet's hits")
    assert all(name in hit.find_element(By.CSS_SELECTOR, ".meta").text for hit in hits(browser))
    assert f"source: {name}" in browser.find_element(By.ID, "filters").text

    first = hits(browser)[0].find_element(By.CSS_SELECTOR, ".title").text
    hits(browser)[0].find_element(By.CSS_SELECTOR, ".similar").click()
    wait_for(browser, lambda: status(browser).startswith(f"Like “{first}”"), "the similar articles")
    assert hits(browser) and first not in [h.find_element(By.CSS_SELECTOR, ".title").text for h in hits(browser)]

    title = hits(browser)[0].find_element(By.CSS_SELECTOR, ".title")
    title.send_keys(Keys.ENTER)  # a hit opens from the keyboard
    article = browser.find_element(By.ID, "article")
    wait_for(browser, lambda: article.is_displayed() and title.text in article.text, "the whole article")
    assert len(article.find_elements(By.TAG_NAME, "p")) >= 2
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(browser, lambda: not article.is_displayed(), "the article closed")
    assert title.is_displayed()  # the results stay as they were


def test_a_misspelt_query_offers_the_spelling_that_has_hits(browser: webdriver.Chrome, server: Server):
    browser.get(f"{server.url}/")
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("Hà Nộii", Keys.ENTER)
    suggestion = browser.find_element(By.ID, "suggested")
    wait_for(browser, lambda: suggestion.is_displayed() and suggestion.text == "Hà Nội", "a suggestion")
    assert status(browser).startswith("no results")
    suggestion.click()
    wait_for(browser, lambda: status(browser).startswith("1–3 of 3"), "the suggestion's hits")
    assert browser.find_element(By.ID, "q").get_attribute("value") == "Hà Nội"

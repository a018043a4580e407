"""The borrower page in real headless Chromium (Debian's package, driven by playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.labels import FLAG_BY_NAME

from .conftest import THREAT_SMS, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is absent (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download needed)")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    base, proc = start_server(tmp_path_factory.mktemp("page") / "server.log")
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 812}, {"width": 1280, "height": 900}],
                         ids=["phone", "desktop"])
def test_threatening_sms_is_highlighted(browser, base_url, viewport, request):
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    try:
        page.goto(base_url + "/")
        page.fill("#sms", THREAT_SMS)
        page.fill("#arrived", "2026-07-20T15:10")
        page.click("#go")
        page.wait_for_selector("#result:not([hidden])", timeout=10_000)

        flags = page.eval_on_selector_all("#flags li.flag", "els => els.map(e => e.dataset.flag)")
        assert "violent_threat" in flags
        assert "insult" in flags
        # Each raised flag has its Chinese name, explanation and basis on the page.
        for name in flags:
            card = page.locator(f'#flags li[data-flag="{name}"]')
            text = card.inner_text()
            info = FLAG_BY_NAME[name]
            assert info.zh in text and info.explanation in text and info.basis in text

        # The evidence is highlighted in the text, and the text itself is unchanged.
        marks = page.eval_on_selector_all(
            "#text mark.ev", "els => els.map(e => [e.textContent, e.dataset.flags])")
        assert any("小心你家人的安全" in t and "violent_threat" in f for t, f in marks)
        assert any("老赖" in t and "insult" in f for t, f in marks)
        assert page.inner_text("#text") == THREAT_SMS

        assert page.inner_text("#stage .stage-name")
        # A borrower's check is read by the review model (the cascade), not the bulk default.
        assert page.get_attribute("#result", "data-model").startswith("cuishou-cascade ")
        money = page.inner_text("#money")
        assert "25,000" in money and "2026-07-20 20:00:00" in money
        advice = page.inner_text("#advice")
        for needed in ("12378", "12363", "110", "官方", "个人账户"):
            assert needed in advice
        assert "110" in page.inner_text("#flags")

        # Nothing overflows sideways at phone width.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        shots = os.environ.get("PAGE_SCREENSHOT_DIR")
        if shots:
            page.screenshot(path=str(Path(shots) / f"borrower-page-{request.node.callspec.id}.png"),
                            full_page=True)
    finally:
        page.close()


def test_harmless_message_has_no_flags(browser, base_url):
    page = browser.new_page()
    try:
        page.goto(base_url + "/")
        page.fill("#sms", "您本期账单应还2,000元，到期还款日为11月25日，请通过手机银行按时还款。")
        page.click("#go")
        page.wait_for_selector("#result:not([hidden])", timeout=10_000)
        assert page.locator("#text mark").count() == 0
        assert "没有发现" in page.inner_text("#flags")
    finally:
        page.close()

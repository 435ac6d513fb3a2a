"""Headless Chromium (Debian's chromium + chromium-driver) for the report tests and benchmark.

The browser starts with networking disabled (the flags below, and Chrome's offline network
conditions), so a report that needs anything from the internet fails to render.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
AVAILABLE = bool(CHROMIUM and CHROMEDRIVER)
REASON = "Debian packages chromium and chromium-driver are not installed (.ci/run installs them)"

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1600"]


@contextlib.contextmanager
def offline_browser() -> Iterator:
    """Yield a Selenium Chrome driver on Debian's Chromium, offline, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="nrwkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_network_conditions(offline=True, latency=0, download_throughput=0,
                                      upload_throughput=0)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_report(driver, path: Path, *, timeout_s: float = 30.0) -> float:
    """Open a report and wait until its Bokeh map is rendered and idle; return the seconds."""
    start = time.perf_counter()
    driver.get(path.resolve().as_uri())
    script = ("return !!(window.Bokeh && Bokeh.documents.length && Bokeh.documents[0].is_idle"
              " && Object.keys(Bokeh.index).length)")
    while time.perf_counter() - start < timeout_s:
        if driver.execute_script(script):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise TimeoutError(f"the map in {path} did not render within {timeout_s} s")

"""Drives the operations console at /admin in headless Chromium (Debian's chromium,
chromium-driver, python3-selenium) as on-call would: a wrong token, then the right one; pause a
queue, retry its dead job, wait for the test to see the paused queue untouched, resume it; the
workers page; a callback found by the last digits of its number, its timeline and its jobs; the
retried job found by its type; the site's key rotated. Takes screenshots of the main pages.
Prints one JSON line of what it saw.

    /usr/bin/python3 drive_console.py BASE_URL TOKEN QUEUE JOB_ID DIGITS SITE_ID SIGNAL_DIR SHOT_DIR
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, token, queue, job_id, digits, site_id, signals, shots = sys.argv[1:9]
options = Options()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 20)
seen = {"foreign": []}


def note_requests():
    """Every resource the page loaded, kept when it came from another origin."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    seen["foreign"] += [name for name in names if not name.startswith(base)]


def submit_confirmed(button):
    """Clicks an action's button and accepts its confirmation."""
    button.click()
    wait.until(lambda d: d.switch_to.alert).accept()


def row(selector):
    return wait.until(lambda d: d.find_element(By.CSS_SELECTOR, selector))


try:
    driver.get(base + "/admin")
    seen["sign_in_required"] = driver.current_url.endswith("/admin/sign-in")
    driver.find_element(By.ID, "token").send_keys("not-the-token-at-all")
    driver.find_element(By.ID, "sign-in").click()
    seen["wrong_token_refused"] = "Wrong token." in driver.find_element(By.CSS_SELECTOR, ".problem").text
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: d.current_url.rstrip("/").endswith("/admin"))
    note_requests()
    driver.save_screenshot(os.path.join(shots, "console-overview.png"))

    # Pause the queue: its row says so.
    submit_confirmed(row(f"tr[data-queue='{queue}'] button.pause"))
    seen["paused_shown"] = row(f"tr[data-queue='{queue}'] td.state").text.startswith("paused")

    # Retry its dead job.
    driver.get(f"{base}/admin/dead?queue={queue}")
    note_requests()
    driver.save_screenshot(os.path.join(shots, "console-dead.png"))
    submit_confirmed(row(f"tr[data-job='{job_id}'] button.retry"))
    seen["retried_notice"] = row(".notice").text
    open(os.path.join(signals, "retried"), "w").close()
    deadline = time.time() + 60
    while time.time() < deadline and not os.path.exists(os.path.join(signals, "go")):
        time.sleep(0.1)

    # Resume it.
    driver.get(base + "/admin")
    submit_confirmed(row(f"tr[data-queue='{queue}'] button.resume"))
    seen["resumed_shown"] = row(f"tr[data-queue='{queue}'] td.state").text == "serving"

    driver.get(base + "/admin/workers")
    note_requests()
    seen["workers"] = len(driver.find_elements(By.CSS_SELECTOR, "#workers tbody tr"))
    driver.save_screenshot(os.path.join(shots, "console-workers.png"))

    # The other pages load with the cluster's data (and nothing from another origin).
    for path, table in (("/admin/sites", "#sites"), ("/admin/releases", "#history"), ("/admin/watchdog", "#alerts")):
        driver.get(base + path)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, table))
        note_requests()
    driver.get(base + "/admin/sites")
    seen["sites"] = len(driver.find_elements(By.CSS_SELECTOR, "#sites tbody tr[data-site]"))
    driver.save_screenshot(os.path.join(shots, "console-sites.png"))
    # A phone's width: the queues' table still fits, nothing scrolls sideways.
    driver.set_window_size(390, 844)
    driver.get(base + "/admin")
    seen["phone_overflow"] = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    driver.save_screenshot(os.path.join(shots, "console-phone.png"))
    driver.set_window_size(1200, 900)

    # A callback by the last digits of its number, then its journey.
    driver.get(base + "/admin/callbacks")
    driver.find_element(By.ID, "callback-query").send_keys(digits)
    driver.find_element(By.CSS_SELECTOR, "form.find button").click()
    row("#callbacks tbody a").click()
    items = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline li"))
    seen["timeline"] = [item.get_attribute("data-kind") for item in items]
    seen["timeline_text"] = [item.text for item in items]
    note_requests()
    driver.save_screenshot(os.path.join(shots, "console-callback.png"))

    # The callback's jobs, then the retried job found by its type.
    driver.find_element(By.LINK_TEXT, "its jobs").click()
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs tbody tr"))
    seen["callback_job_types"] = sorted({r.find_elements(By.TAG_NAME, "td")[2].text for r in rows if len(r.find_elements(By.TAG_NAME, "td")) > 2})
    note_requests()
    driver.save_screenshot(os.path.join(shots, "console-jobs.png"))
    driver.find_element(By.ID, "job-query").clear()
    driver.find_element(By.ID, "job-query").send_keys("noop")
    driver.find_element(By.CSS_SELECTOR, "form.find button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#jobs tbody tr"))
    seen["noop_jobs"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#jobs tbody a")]

    # The site's key rotated (the old one keeps working an hour): the new key shown once.
    driver.get(base + "/admin/sites")
    site_row = row(f"tr[data-site='{site_id}']")
    for option in site_row.find_elements(By.CSS_SELECTOR, "select[name=grace] option"):
        if option.get_attribute("value") == "3600":
            option.click()
    submit_confirmed(site_row.find_element(By.CSS_SELECTOR, "button.rotate"))
    seen["new_key"] = row("#new-key").text
    driver.get(base + "/admin/sites")
    seen["old_key_note"] = row(f"tr[data-site='{site_id}']").text
    print(json.dumps(seen))
finally:
    driver.quit()

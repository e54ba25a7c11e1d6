"""Drives the Redial widget on the demo page in headless Chromium (Debian's chromium and
chromium-driver, python3-selenium), like a visitor: open the form, type a number, submit,
wait for the status to change. Prints one JSON line: {"callback_id", "statuses", "final"}.

    /usr/bin/python3 drive_widget.py DEMO_URL PHONE SCREENSHOT.png
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

url, phone, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
options = Options()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(url)
    deadline = time.time() + 20
    while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, "[data-redial-widget][data-ready]"):
        time.sleep(0.1)
    # The widget lives in a shadow root.
    root = driver.find_element(By.CSS_SELECTOR, "[data-redial-widget]").shadow_root
    root.find_element(By.CSS_SELECTOR, ".redial-button").click()
    field = root.find_element(By.CSS_SELECTOR, ".redial-phone")
    submit = root.find_element(By.CSS_SELECTOR, ".redial-submit")
    field.send_keys("12")
    rejected_while_typing = submit.get_attribute("disabled") is not None and bool(
        root.find_element(By.CSS_SELECTOR, ".redial-hint").text)
    field.clear()
    field.send_keys(phone)
    root.find_element(By.CSS_SELECTOR, ".redial-name").send_keys("Browser Test")
    submit.click()
    statuses = []
    deadline = time.time() + 60
    final = None
    while time.time() < deadline:
        status = root.find_element(By.CSS_SELECTOR, ".redial-status").get_attribute("data-status")
        if status and (not statuses or statuses[-1] != status):
            statuses.append(status)
        if status in ("completed", "failed", "canceled", "error"):
            final = status
            break
        time.sleep(0.1)
    callback_id = root.find_element(By.CSS_SELECTOR, ".redial-panel").get_attribute("data-callback-id")
    driver.save_screenshot(screenshot)
    print(json.dumps({"callback_id": callback_id, "statuses": statuses, "final": final,
                      "rejected_while_typing": rejected_while_typing}))
finally:
    driver.quit()

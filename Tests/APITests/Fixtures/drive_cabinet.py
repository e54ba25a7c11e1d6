"""Drives the owner's cabinet in headless Chromium (Debian's chromium and chromium-driver,
python3-selenium), like an owner: follows the mailed sign-in link, opens the site, plays a
recording, changes the widget's colour and button text and watches the live preview follow,
saves, then opens the demo page with the site's key and reads the widget there. Prints one
JSON line of what it saw.

    /usr/bin/python3 drive_cabinet.py SIGN_IN_LINK DEMO_URL SCREENSHOT.png
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

link, demo, screenshot = sys.argv[1], sys.argv[2], sys.argv[3]
options = Options()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900",
             "--autoplay-policy=no-user-gesture-required"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
result = {}


def wait(condition, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return None


def widget_button():
    """The widget's button in its shadow root, once the widget says it is ready."""
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "[data-redial-widget][data-ready]"))
    root = driver.find_element(By.CSS_SELECTOR, "[data-redial-widget]").shadow_root
    return root.find_element(By.CSS_SELECTOR, ".redial-button")


def look(button):
    return driver.execute_script(
        "var s = getComputedStyle(arguments[0]); return [s.backgroundColor, s.position, arguments[0].textContent];", button)


try:
    driver.get(link)
    result["signed_in"] = bool(wait(lambda: "/cabinet" in driver.current_url and driver.find_elements(By.CSS_SELECTOR, "table.sites a")))
    driver.find_element(By.CSS_SELECTOR, "table.sites a").click()
    wait(lambda: driver.find_elements(By.CSS_SELECTOR, "form.widget"))

    # The recording plays: its time advances, with no media error.
    audio = driver.find_element(By.CSS_SELECTOR, "audio")
    result["play"] = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "arguments[0].play().then(function () { done('ok'); }).catch(function (e) { done(String(e)); });", audio)
    result["current_time"] = wait(lambda: driver.execute_script(
        "var a = arguments[0]; return a.currentTime > 0.2 ? a.currentTime : 0;", audio), 15) or 0
    result["duration"] = driver.execute_script("return arguments[0].duration;", audio)
    result["media_error"] = driver.execute_script("return arguments[0].error && arguments[0].error.code;", audio)

    # The live preview: the widget itself, following the form before anything is saved.
    button = widget_button()
    result["preview_before"] = look(button)
    form = driver.find_element(By.CSS_SELECTOR, "form.widget")
    driver.execute_script(
        "var c = arguments[0].elements.color; c.value = '#aa3300'; c.dispatchEvent(new Event('input', {bubbles: true}));", form)
    text = form.find_element(By.NAME, "button_text")
    text.clear()
    text.send_keys("Ring me")
    result["preview_after"] = wait(lambda: look(button)[2] == "Ring me" and look(button)) or look(button)
    form.find_element(By.CSS_SELECTOR, "button").click()
    notice = wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice"))
    result["notice"] = notice[0].text if notice else None
    driver.save_screenshot(screenshot)

    # The site's own widget, after the save.
    driver.get(demo)
    result["demo"] = look(widget_button())
finally:
    driver.quit()
print(json.dumps(result))

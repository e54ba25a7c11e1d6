"""The Redial widget on a hostile page, in headless Chromium (Debian's chromium and
chromium-driver, python3-selenium). The page is served here, on a loopback port of its own (so
the widget talks to the API across origins, as on a customer's site), with CSS meant to break
it: `* { all: unset !important }`, 64 px fonts, every div hidden. Prints one JSON line.

    /usr/bin/python3 widget_checks.py SCENARIO API SITE_KEY [ARG]

SCENARIO:
  look      the widget's texts, colour, corner and promise as shown (ARG: data-lang, or "-")
  submit    a number typed and sent with the mouse; the callback id and statuses (ARG: phone)
  keyboard  the same with the keyboard only: Tab, Enter, the focus trap, Escape (ARG: phone)
Set TZ_OVERRIDE to run the browser in that time zone.
"""
import http.server
import json
import os
import socketserver
import sys
import threading
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

scenario, api, key = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else "-"
lang = arg if scenario == "look" and arg != "-" else None

PAGE = """<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Hostile</title>
<style>
* { all: unset !important; }
body { display: block !important; font-size: 64px !important; font-family: "Comic Sans MS" !important; color: #f0f !important; }
div, button, input, form { display: none !important; }
</style></head><body><p>A page whose styles would break any widget styled in its document.</p>
<script src="%s/widget.js" data-site-key="%s" data-default-country="7" %s></script></body></html>
""" % (api, key, 'data-lang="%s"' % lang if lang else "")


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = socketserver.TCPServer(("127.0.0.1", 0), Page)
threading.Thread(target=server.serve_forever, daemon=True).start()
page = "http://127.0.0.1:%d/" % server.server_address[1]

options = Options()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def inside(js):
    """Runs JS with `root` bound to the widget's shadow root."""
    return driver.execute_script("var root = document.querySelector('[data-redial-widget]').shadowRoot;" + js)


def wait(condition, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return None


def statuses_until_final(seconds=60):
    statuses = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = inside("return root.querySelector('.redial-status').getAttribute('data-status');")
        if status and (not statuses or statuses[-1] != status):
            statuses.append(status)
        if status in ("completed", "failed", "canceled", "error"):
            break
        time.sleep(0.1)
    return statuses


try:
    if os.environ.get("TZ_OVERRIDE"):
        driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": os.environ["TZ_OVERRIDE"]})
    driver.get(page)
    ready = wait(lambda: driver.execute_script(
        "var h = document.querySelector('[data-redial-widget]'); return h && h.hasAttribute('data-ready');"))
    result = {"ready": bool(ready)}
    look = inside("""
        var b = root.querySelector('.redial-button'), s = getComputedStyle(b), r = b.getBoundingClientRect();
        return {button: b.textContent, font_size: s.fontSize, background: s.backgroundColor, visible: s.display !== 'none' && r.width > 0,
                left: r.left, right: window.innerWidth - r.right, bottom: window.innerHeight - r.bottom,
                lang: root.querySelector('.w').getAttribute('lang'), title: root.querySelector('h2').textContent,
                phone_label: root.querySelector('label[for=rp]').textContent,
                promise: root.querySelector('.redial-promise').textContent};""")
    result.update(look)
    if scenario == "submit":
        inside("root.querySelector('.redial-button').click();")
        field = inside("return root.querySelector('.redial-phone');")
        field.send_keys(arg)
        inside("root.querySelector('.redial-name').focus();")
        inside("return root.querySelector('.redial-name');").send_keys("Hostile Page")
        result["panel_font_size"] = inside("return getComputedStyle(root.querySelector('.redial-phone')).fontSize;")
        inside("root.querySelector('.redial-submit').click();")
        result["statuses"] = statuses_until_final()
        result["callback_id"] = inside("return root.querySelector('.redial-panel').getAttribute('data-callback-id');")
        result["status_text"] = inside("return root.querySelector('.redial-status').textContent;")
    elif scenario == "keyboard":
        focused = lambda: inside("return root.activeElement ? (root.activeElement.className || root.activeElement.id) : null;")
        keys = ActionChains(driver)
        keys.send_keys(Keys.TAB).perform()
        result["first_tab"] = focused()
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        result["opened"] = inside("return root.querySelector('.redial-panel').classList.contains('o');")
        result["after_open"] = focused()
        ActionChains(driver).send_keys(arg).perform()
        ActionChains(driver).send_keys(Keys.TAB).perform()
        result["after_phone"] = focused()
        ActionChains(driver).send_keys("Keyboard Only").send_keys(Keys.TAB).perform()
        result["after_name"] = focused()
        ActionChains(driver).send_keys(Keys.TAB).perform()
        result["trapped_to"] = focused()
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        result["back_to"] = focused()
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        result["statuses"] = statuses_until_final()
        result["callback_id"] = inside("return root.querySelector('.redial-panel').getAttribute('data-callback-id');")
        result["announced"] = inside("return root.querySelector('.redial-status').getAttribute('role');")
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        result["closed"] = not inside("return root.querySelector('.redial-panel').classList.contains('o');")
        result["focus_returned"] = focused()
    origins = driver.execute_script("return performance.getEntriesByType('resource').map(function (e) { return new URL(e.name).origin; });")
    result["request_origins"] = sorted(set(origins))
    result["page_origin"] = page.rstrip("/")
    print(json.dumps(result))
finally:
    driver.quit()
    server.shutdown()

/* Redial "call me back" widget. Embed with one tag:
 *   <script src="https://api.example/widget.js" data-site-key="sk_…" async></script>
 * Options (data-*): api (default: where this script came from), open-after (seconds on page),
 * open-on-scroll (percent scrolled), open-on-exit ("true": when the pointer leaves the top),
 * default-country (calling code for numbers typed without one, e.g. "7").
 * No dependencies; everything lives under the .redial- class prefix. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.RedialWidget) return;
  var key = script.getAttribute("data-site-key");
  var api = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var country = script.getAttribute("data-default-country") || "";
  var TERMINAL = { completed: 1, failed: 1, canceled: 1 };
  var LABELS = {
    queued: "Request received — we will call you shortly.",
    scheduled: "Scheduled — we will call you when the office opens.",
    dialing: "Calling you now…",
    retry_wait: "We could not reach you; we will try again shortly.",
    completed: "Call completed. Thank you!",
    failed: "We could not reach you. Please try again later.",
    canceled: "The request was canceled."
  };

  var style = document.createElement("style");
  style.textContent =
    ".redial-button{position:fixed;right:24px;bottom:24px;z-index:2147483000;border:0;border-radius:28px;" +
    "padding:14px 22px;background:#0b7a3e;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".redial-panel{position:fixed;right:24px;bottom:88px;z-index:2147483000;width:300px;padding:18px;" +
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font:15px system-ui,sans-serif;color:#222;display:none}" +
    ".redial-panel.redial-open{display:block}.redial-panel h3{margin:0 0 10px;font-size:18px}" +
    ".redial-panel input{box-sizing:border-box;width:100%;margin:6px 0;padding:10px;border:1px solid #bbb;border-radius:6px;font-size:16px}" +
    ".redial-panel input.redial-bad{border-color:#c0392b}.redial-hint{min-height:18px;font-size:13px;color:#c0392b}" +
    ".redial-panel button{width:100%;margin-top:8px;padding:11px;border:0;border-radius:6px;background:#0b7a3e;color:#fff;font-size:16px;cursor:pointer}" +
    ".redial-panel button:disabled{background:#9bbfa9;cursor:default}.redial-status{margin-top:10px;font-weight:600}";
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.className = "redial-button";
  button.type = "button";
  button.textContent = "Call me back";
  var panel = document.createElement("div");
  panel.className = "redial-panel";
  panel.setAttribute("role", "dialog");
  panel.innerHTML =
    '<h3>We will call you back</h3>' +
    '<form novalidate><input class="redial-phone" name="phone" type="tel" autocomplete="tel" placeholder="+7 916 123-45-67" required>' +
    '<div class="redial-hint"></div>' +
    '<input class="redial-name" name="name" type="text" autocomplete="name" placeholder="Your name (optional)" maxlength="100">' +
    '<button class="redial-submit" type="submit" disabled>Call me</button></form>' +
    '<div class="redial-status" aria-live="polite"></div>';
  document.body.appendChild(button);
  document.body.appendChild(panel);

  var form = panel.querySelector("form");
  var phone = panel.querySelector(".redial-phone");
  var nameInput = panel.querySelector(".redial-name");
  var hint = panel.querySelector(".redial-hint");
  var submit = panel.querySelector(".redial-submit");
  var status = panel.querySelector(".redial-status");
  var opened = false;

  function open() {
    if (opened) return;
    opened = true;
    panel.classList.add("redial-open");
    phone.focus();
  }
  button.addEventListener("click", function () {
    if (panel.classList.contains("redial-open")) { panel.classList.remove("redial-open"); opened = false; } else { opened = false; open(); }
  });

  /* Mirrors the server's rule: + and 8-15 digits, or a national number when a default country is set. */
  function problem(text) {
    var t = text.trim();
    if (!t) return "Enter your phone number.";
    if (/[^0-9+()\-. ]/.test(t) || t.indexOf("+") > 0 || (t.match(/\+/g) || []).length > 1) return "Only digits, spaces and + ( ) - are allowed.";
    var digits = t.replace(/\D/g, "");
    if (t.charAt(0) !== "+" && digits.indexOf("00") !== 0 && !country) return "Start with + and your country code.";
    if (digits.length < 8 || digits.length > 15) return "A phone number has 8 to 15 digits.";
    return "";
  }
  phone.addEventListener("input", function () {
    var p = problem(phone.value);
    hint.textContent = phone.value ? p : "";
    phone.classList.toggle("redial-bad", !!p && !!phone.value);
    submit.disabled = !!p;
  });

  function show(state, reason) {
    status.textContent = LABELS[state] || state;
    status.setAttribute("data-status", state);
    if (reason && state === "failed") status.textContent += " (" + reason + ")";
  }
  function poll(id) {
    fetch(api + "/v1/callbacks/" + encodeURIComponent(id), { headers: { "X-Site-Key": key } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.status) show(body.status, body.reason);
        if (!TERMINAL[body.status]) setTimeout(function () { poll(id); }, 2000);
      })
      .catch(function () { setTimeout(function () { poll(id); }, 5000); });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (problem(phone.value)) return;
    submit.disabled = true;
    var idempotency = "w-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    var body = { phone: phone.value, page_url: location.href };
    if (nameInput.value.trim()) body.name = nameInput.value.trim();
    fetch(api + "/v1/callbacks", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Site-Key": key, "Idempotency-Key": idempotency },
      body: JSON.stringify(body)
    })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) {
          status.textContent = (res.body.error && res.body.error.message) || "Something went wrong.";
          status.setAttribute("data-status", "error");
          submit.disabled = false;
          return;
        }
        form.style.display = "none";
        panel.setAttribute("data-callback-id", res.body.id);
        show(res.body.status);
        poll(res.body.id);
      })
      .catch(function () { status.textContent = "Network error; please try again."; submit.disabled = false; });
  });

  /* Behavioural triggers that open the form by themselves. */
  var after = parseFloat(script.getAttribute("data-open-after"));
  if (after > 0) setTimeout(open, after * 1000);
  var depth = parseFloat(script.getAttribute("data-open-on-scroll"));
  if (depth > 0) {
    window.addEventListener("scroll", function () {
      var total = document.documentElement.scrollHeight - window.innerHeight;
      if (total > 0 && (window.scrollY / total) * 100 >= depth) open();
    }, { passive: true });
  }
  if (script.getAttribute("data-open-on-exit") === "true") {
    document.addEventListener("mouseout", function (e) { if (!e.relatedTarget && e.clientY <= 0) open(); });
  }
  window.RedialWidget = { open: open };
})();

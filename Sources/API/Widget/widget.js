/* Redial "call me back" widget. Embed with one tag:
 *   <script src="https://api.example/widget.js" data-site-key="sk_…" async></script>
 * Options (data-*): api (default: where this script came from), lang ("ru" or "en"; default:
 * the site's), open-after (seconds on page; default: the site's), open-on-scroll (percent
 * scrolled), open-on-exit ("true": when the pointer leaves the top), default-country (calling
 * code for numbers typed without one, e.g. "7"), preview (with config: the cabinet's live preview,
 * which sends nothing and follows RedialWidget.preview(settings)).
 * It lives in a Shadow DOM (no style leaks either way), asks only its own API (the site's
 * settings: language, colour, corner, button text, working hours and zone), and needs nothing
 * else. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.RedialWidget) return;
  var key = script.getAttribute("data-site-key");
  var api = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var country = script.getAttribute("data-default-country") || "";
  var preview = script.hasAttribute("data-preview");
  var TERMINAL = { completed: 1, failed: 1, canceled: 1 };
  var TEXTS = {
    en: {
      button: "Call me back", title: "We will call you back", close: "Close", phone: "Your phone number",
      name: "Your name (optional)", submit: "Call me", now: "We will call you within a minute.",
      later: "We are closed now: we will call you {when}.", today: "today at {time}", tomorrow: "at {time} tomorrow",
      weekday: "on {day} at {time}", empty: "Enter your phone number.", chars: "Only digits, spaces and + ( ) - are allowed.",
      plus: "Start with + and your country code.", length: "A phone number has 8 to 15 digits.",
      wrong: "Something went wrong.", network: "Network error; please try again.",
      queued: "Request received — we will call you shortly.", scheduled: "Scheduled — we will call you when the office opens.",
      dialing: "Calling you now…", retry_wait: "We could not reach you; we will try again shortly.",
      completed: "Call completed. Thank you!", failed: "We could not reach you. Please try again later.",
      canceled: "The request was canceled."
    },
    ru: {
      button: "Перезвоните мне", title: "Мы вам перезвоним", close: "Закрыть", phone: "Ваш номер телефона",
      name: "Ваше имя (необязательно)", submit: "Позвоните мне", now: "Перезвоним в течение минуты.",
      later: "Сейчас мы не работаем: перезвоним {when}.", today: "сегодня в {time}", tomorrow: "завтра в {time}",
      weekday: "в {day} в {time}", empty: "Введите номер телефона.", chars: "Допустимы только цифры, пробелы и + ( ) -.",
      plus: "Начните с + и кода страны.", length: "В номере телефона от 8 до 15 цифр.",
      wrong: "Что-то пошло не так.", network: "Ошибка сети; попробуйте ещё раз.",
      queued: "Заявка принята — скоро перезвоним.", scheduled: "Заявка принята — перезвоним, когда откроемся.",
      dialing: "Звоним вам…", retry_wait: "Не удалось дозвониться; скоро попробуем ещё раз.",
      completed: "Звонок состоялся. Спасибо!", failed: "Не удалось дозвониться. Попробуйте позже.",
      canceled: "Заявка отменена."
    }
  };
  var config = {};
  var t = TEXTS.en;
  var lang = "en";

  /* The shadow root: the page's CSS does not reach in (`:host` resets what would be inherited,
   * with !important, which beats the page's rules on the host), and ours does not reach out. */
  var host = document.createElement("div");
  host.setAttribute("data-redial-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css =
    ":host{all:initial!important;display:block!important;position:static!important}" +
    ".w{font:15px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;--c:#0b7a3e}" +
    ".w *{box-sizing:border-box;font:inherit;color:inherit;margin:0}" +
    ".w .b{position:fixed;bottom:24px;right:24px;z-index:2147483000;border:0;border-radius:28px;padding:14px 22px;" +
    "background:var(--c);color:#fff;font-weight:600;font-size:16px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".p{position:fixed;bottom:88px;right:24px;z-index:2147483000;width:min(320px,calc(100vw - 32px));padding:18px;background:#fff;" +
    "border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);display:none}" +
    ".w.l .b,.w.l .p{right:auto;left:24px}.p.o{display:block}" +
    ".h{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}.w h2{font-size:18px;font-weight:700}" +
    ".w .x{border:0;background:none;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}" +
    ".w .m{font-size:14px;color:#444;margin-bottom:6px}.w label{display:block;font-size:13px;margin-top:8px}" +
    ".w input{display:block;width:100%;margin:4px 0;padding:10px;border:1px solid #888;border-radius:6px;font-size:16px;background:#fff}" +
    ".w input.bad{border-color:#c0392b}.w .e{min-height:18px;font-size:13px;color:#c0392b}" +
    ".w .s{display:block;width:100%;margin-top:8px;padding:11px;border:0;border-radius:6px;background:var(--c);color:#fff;font-size:16px;cursor:pointer}" +
    ".w .s:disabled{opacity:.5;cursor:default}.w .st{margin-top:10px;font-weight:600}" +
    "button:focus-visible,input:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}";
  /* A constructed style sheet where the browser has them: a page's Content-Security-Policy
   * without 'unsafe-inline' (the cabinet's) blocks a <style> element, not these. */
  var sheet = null;
  try { sheet = new CSSStyleSheet(); sheet.replaceSync(css); } catch (e) { sheet = null; }
  var adopted = sheet && "adoptedStyleSheets" in root;
  if (adopted) root.adoptedStyleSheets = [sheet];
  root.innerHTML =
    (adopted ? "" : "<style>" + css + "</style>") + "<div class=\"w\" part=\"widget\">" +
    "<button class=\"b redial-button\" type=\"button\" aria-haspopup=\"dialog\" aria-expanded=\"false\"></button>" +
    "<div class=\"p redial-panel\" role=\"dialog\" aria-modal=\"true\" aria-labelledby=\"rt\" aria-describedby=\"rm\">" +
    "<div class=\"h\"><h2 id=\"rt\"></h2><button class=\"x redial-close\" type=\"button\">&times;</button></div>" +
    "<p class=\"m redial-promise\" id=\"rm\"></p>" +
    "<form novalidate><label for=\"rp\"></label><input id=\"rp\" class=\"redial-phone\" name=\"phone\" type=\"tel\" " +
    "autocomplete=\"tel\" required aria-describedby=\"re\"><div class=\"e redial-hint\" id=\"re\" aria-live=\"polite\"></div>" +
    "<label for=\"rn\"></label><input id=\"rn\" class=\"redial-name\" name=\"name\" type=\"text\" autocomplete=\"name\" maxlength=\"100\">" +
    "<button class=\"s redial-submit\" type=\"submit\" disabled></button></form>" +
    "<div class=\"st redial-status\" role=\"status\" aria-live=\"polite\"></div></div></div>";
  function $(selector) { return root.querySelector(selector); }
  var box = $(".w"), button = $(".b"), panel = $(".p"), form = $("form"), phone = $("#rp"), nameInput = $("#rn");
  var hint = $(".e"), submit = $(".s"), status = $(".st"), promise = $(".m"), closer = $(".x");
  var opened = false;

  function render() {
    lang = TEXTS[script.getAttribute("data-lang")] ? script.getAttribute("data-lang") : TEXTS[config.language] ? config.language : "en";
    t = TEXTS[lang];
    box.setAttribute("lang", lang);
    if (/^#[0-9a-fA-F]{6}$/.test(config.color || "")) box.style.setProperty("--c", config.color);
    box.classList.toggle("l", config.position === "left");
    button.textContent = config.button_text || t.button;
    $("#rt").textContent = t.title;
    closer.setAttribute("aria-label", t.close);
    root.querySelector("label[for=rp]").textContent = t.phone;
    root.querySelector("label[for=rn]").textContent = t.name;
    submit.textContent = t.submit;
    promise.textContent = promiseText(new Date());
  }

  /* What happens next, from the site's hours and zone: within a minute while it works, else when
   * it opens, said in the visitor's own clock. */
  function promiseText(now) {
    var hours = config.hours, zone = config.time_zone;
    if (!hours || !zone) return "";
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .formatToParts(now).forEach(function (p) { parts[p.type] = p.value; });
    } catch (e) { return ""; }
    var day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday) + 1;
    var minute = (parseInt(parts.hour, 10) % 24) * 60 + parseInt(parts.minute, 10);
    var span = hours[day];
    if (span && minute >= span.open && minute < span.close) return t.now;
    for (var ahead = 0; ahead < 8; ahead++) {
      var next = hours[(day - 1 + ahead) % 7 + 1];
      if (!next || (ahead === 0 && minute >= next.open)) continue;
      var at = new Date(now.getTime() + ((ahead * 1440 + next.open - minute) * 60 - now.getSeconds()) * 1000);
      var time = at.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit", hour12: false });
      var days = Math.round((new Date(at.getFullYear(), at.getMonth(), at.getDate()) -
        new Date(now.getFullYear(), now.getMonth(), now.getDate())) / 86400000);
      var when = days === 0 ? t.today : days === 1 ? t.tomorrow : t.weekday;
      when = when.replace("{time}", time).replace("{day}", at.toLocaleDateString(lang, { weekday: "long" }));
      return t.later.replace("{when}", when);
    }
    return "";
  }

  function open() {
    if (opened) return;
    opened = true;
    panel.classList.add("o");
    button.setAttribute("aria-expanded", "true");
    (form.style.display === "none" ? closer : phone).focus();
  }
  function close() {
    if (!opened) return;
    opened = false;
    panel.classList.remove("o");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  button.addEventListener("click", function () { if (opened) close(); else open(); });
  closer.addEventListener("click", close);
  /* Keyboard: Escape closes; Tab stays within the open form. */
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); close(); return; }
    if (e.key !== "Tab") return;
    var items = Array.prototype.filter.call(panel.querySelectorAll("button,input"), function (el) {
      return !el.disabled && el.offsetParent !== null;
    });
    var first = items[0], last = items[items.length - 1], active = root.activeElement;
    if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); } else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
  });

  /* Mirrors the server's rule: + and 8-15 digits, or a national number when a default country is set. */
  function problem(text) {
    var v = text.trim();
    if (!v) return t.empty;
    if (/[^0-9+()\-. ]/.test(v) || v.indexOf("+") > 0 || (v.match(/\+/g) || []).length > 1) return t.chars;
    var digits = v.replace(/\D/g, "");
    if (v.charAt(0) !== "+" && digits.indexOf("00") !== 0 && !country) return t.plus;
    if (digits.length < 8 || digits.length > 15) return t.length;
    return "";
  }
  phone.addEventListener("input", function () {
    var p = problem(phone.value);
    hint.textContent = phone.value ? p : "";
    phone.classList.toggle("bad", !!p && !!phone.value);
    phone.setAttribute("aria-invalid", p && phone.value ? "true" : "false");
    submit.disabled = !!p;
  });

  function show(state, reason) {
    status.textContent = t[state] || state;
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
    if (preview) { show("queued"); return; }
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
          status.textContent = (res.body.error && res.body.error.message) || t.wrong;
          status.setAttribute("data-status", "error");
          submit.disabled = false;
          return;
        }
        form.style.display = "none";
        panel.setAttribute("data-callback-id", res.body.id);
        show(res.body.status);
        closer.focus();
        poll(res.body.id);
      })
      .catch(function () { status.textContent = t.network; submit.disabled = false; });
  });

  render();
  document.body.appendChild(host);
  if (preview) {
    try { config = JSON.parse(script.getAttribute("data-config") || "{}"); } catch (e) { config = {}; }
    render();
    host.setAttribute("data-ready", "");
    window.RedialWidget = {
      open: open, close: close,
      preview: function (changes) { for (var k in changes) config[k] = changes[k]; render(); }
    };
    return;
  }
  /* The site's settings (cached by the browser a minute, revalidated by version). The widget
   * works without them, in English and the default look. */
  fetch(api + "/v1/widget/config", { headers: { "X-Site-Key": key } })
    .then(function (r) { return r.ok ? r.json() : {}; })
    .then(function (c) {
      config = c || {};
      render();
      host.setAttribute("data-ready", "");
      var after = parseFloat(script.getAttribute("data-open-after")) || config.open_after_s;
      if (after > 0) setTimeout(open, after * 1000);
    })
    .catch(function () { host.setAttribute("data-ready", ""); });

  /* Behavioural triggers that open the form by themselves. */
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
  window.RedialWidget = { open: open, close: close };
})();

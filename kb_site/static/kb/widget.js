/*! Kestrel Help Center widget: one tag, no build step, no third-party code.
 *
 *   <script src="https://HELP/static/kb/widget.js" data-site-key="kb_…"
 *           data-locale="sv" async></script>
 *
 * The API base is taken from this script's own src. Without data-locale the page's
 * <html lang> is used. Host page API: KB.open(), KB.close(), KB.search("…"),
 * KB.openArticle(id); or markup: <button data-kb-open>, data-kb-search="…",
 * data-kb-article="12".
 */
(function () {
  "use strict";
  if (window.KB && window.KB.version) return;

  var script =
    document.currentScript ||
    document.querySelector("script[data-site-key][src*='widget.js']");
  if (!script || !window.fetch) return;
  var base = new URL(script.src, location.href);
  var API = base.origin + "/api/v1/";
  var KEY = script.getAttribute("data-site-key") || "";

  var T = {
    en: ["Help", "How can we help?", "Close help", "Back", "Type your question", "Searching…", "Suggested articles", "No articles match your question.", "Did you mean:", "Did this answer your question?", "Yes", "No", "What went wrong?", "It wasn't about my question", "It didn't answer my question", "Great! Glad it helped.", "Sorry this didn't help.", "Contact support", "Still need help?", "Subject", "Describe your problem", "Your email", "Send", "Sending…", "Thank you! Your request has been sent (number {id}). We will answer by email.", "Something went wrong. Please try again.", "Open in the help center", "Loading…", "Help center"],
    sv: ["Hjälp", "Hur kan vi hjälpa dig?", "Stäng hjälpen", "Tillbaka", "Skriv din fråga", "Söker…", "Föreslagna artiklar", "Inga artiklar matchar din fråga.", "Menade du:", "Besvarade detta din fråga?", "Ja", "Nej", "Vad var fel?", "Det handlade inte om min fråga", "Det besvarade inte min fråga", "Toppen! Vad bra att det hjälpte.", "Tråkigt att det inte hjälpte.", "Kontakta support", "Behöver du fortfarande hjälp?", "Ämne", "Beskriv ditt problem", "Din e-postadress", "Skicka", "Skickar…", "Tack! Ditt ärende har skickats (nummer {id}). Vi svarar via e-post.", "Något gick fel. Försök igen.", "Öppna i hjälpcentret", "Laddar…", "Hjälpcenter"],
    id: ["Bantuan", "Ada yang bisa kami bantu?", "Tutup bantuan", "Kembali", "Ketik pertanyaan Anda", "Mencari…", "Artikel yang disarankan", "Tidak ada artikel yang cocok dengan pertanyaan Anda.", "Maksud Anda:", "Apakah ini menjawab pertanyaan Anda?", "Ya", "Tidak", "Apa yang kurang?", "Tidak berkaitan dengan pertanyaan saya", "Tidak menjawab pertanyaan saya", "Bagus! Senang bisa membantu.", "Maaf, ini belum membantu.", "Hubungi dukungan", "Masih butuh bantuan?", "Subjek", "Jelaskan masalah Anda", "Email Anda", "Kirim", "Mengirim…", "Terima kasih! Permintaan Anda telah dikirim (nomor {id}). Kami akan membalas melalui email.", "Terjadi kesalahan. Silakan coba lagi.", "Buka di pusat bantuan", "Memuat…", "Pusat bantuan"],
    ru: ["Помощь", "Чем мы можем помочь?", "Закрыть помощь", "Назад", "Введите ваш вопрос", "Ищем…", "Подходящие статьи", "Статей по вашему вопросу не найдено.", "Возможно, вы имели в виду:", "Это ответило на ваш вопрос?", "Да", "Нет", "Что не так?", "Это не относится к моему вопросу", "Это не ответило на мой вопрос", "Отлично! Рады, что помогли.", "Жаль, что это не помогло.", "Связаться с поддержкой", "Всё ещё нужна помощь?", "Тема", "Опишите вашу проблему", "Ваш e-mail", "Отправить", "Отправляем…", "Спасибо! Ваш запрос отправлен (номер {id}). Мы ответим по электронной почте.", "Что-то пошло не так. Попробуйте ещё раз.", "Открыть в справочном центре", "Загрузка…", "Справочный центр"],
    "zh-hant": ["說明", "需要什麼協助？", "關閉說明", "返回", "輸入您的問題", "搜尋中…", "建議文章", "找不到符合您問題的文章。", "您是不是要找：", "這是否解答了您的問題？", "是", "否", "哪裡有問題？", "與我的問題無關", "沒有解答我的問題", "太好了！很高興能幫上忙。", "很抱歉沒能幫上忙。", "聯絡客服", "仍需要協助？", "主旨", "請描述您的問題", "您的電子郵件", "送出", "傳送中…", "謝謝！您的請求已送出（編號 {id}）。我們會以電子郵件回覆。", "發生錯誤，請再試一次。", "在說明中心開啟", "載入中…", "說明中心"]
  };
  var NAMES = "help title close back ask searching suggested none didYouMean asked yes no why not_related didnt_answer thanks sorry contact still subject message email send sending sent error full loading dialog".split(" ");

  function pickLocale(value) {
    var tag = String(value || "").toLowerCase().replace(/_/g, "-");
    if (T[tag]) return tag;
    var lang = tag.split("-")[0];
    if (lang === "zh") return "zh-hant";
    return T[lang] ? lang : "en";
  }
  var LOCALE = pickLocale(script.getAttribute("data-locale") || document.documentElement.lang);
  var S = {};
  NAMES.forEach(function (name, i) { S[name] = T[LOCALE][i]; });

  // One journey per browser tab session on this site: it ties the search, the
  // article read, the feedback and any ticket together.
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  var journey;
  try {
    journey = sessionStorage.getItem("kb-journey") || uuid();
    sessionStorage.setItem("kb-journey", journey);
  } catch (e) {
    journey = uuid();
  }

  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box}" +
    ".kb{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK TC',sans-serif;color:#1b1f24}" +
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;padding:12px 20px;background:#0b5cad;color:#fff;font:inherit;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".launcher:hover{background:#094a8b}" +
    "button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}" +
    ".panel{position:fixed;right:16px;bottom:76px;z-index:2147483001;width:min(400px,calc(100vw - 16px));height:min(620px,calc(100vh - 96px));display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.3);overflow:hidden}" +
    ".panel[hidden]{display:none}" +
    "@media (max-width:480px){.panel{right:8px;left:8px;bottom:8px;width:auto;height:calc(100vh - 16px)}}" +
    "header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#0b5cad;color:#fff}" +
    "h2{flex:1;margin:0;font-size:17px}" +
    "header button{border:0;background:transparent;color:#fff;font:inherit;font-size:20px;line-height:1;padding:4px 8px;border-radius:6px;cursor:pointer}" +
    "header button:hover{background:rgba(255,255,255,.15)}" +
    ".body{flex:1;overflow:auto;padding:14px}" +
    "input,textarea{width:100%;font:inherit;padding:10px 12px;border:1px solid #8a939e;border-radius:8px;color:inherit;background:#fff}" +
    "label{display:block;font-weight:600;margin:10px 0 4px}" +
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".status{color:#57606a;margin:10px 0 6px;font-size:14px}" +
    "ul{list-style:none;margin:0;padding:0}" +
    "li{margin:0 0 6px}" +
    ".result{display:block;width:100%;text-align:left;border:1px solid #d0d7de;border-radius:8px;background:#fff;padding:10px 12px;font:inherit;color:inherit;cursor:pointer}" +
    ".result:hover,.result:focus{border-color:#0b5cad;background:#f3f8fd}" +
    ".result b{display:block;color:#0b5cad}" +
    ".result span{display:block;font-size:13px;color:#57606a}" +
    ".btn{border:1px solid #0b5cad;background:#fff;color:#0b5cad;border-radius:8px;padding:8px 14px;font:inherit;font-weight:600;cursor:pointer;margin:4px 6px 4px 0}" +
    ".btn.primary{background:#0b5cad;color:#fff}" +
    ".link{border:0;background:none;color:#0b5cad;text-decoration:underline;font:inherit;cursor:pointer;padding:0}" +
    ".article h3{font-size:19px;margin:0 0 8px}" +
    ".content{overflow-wrap:anywhere}" +
    ".content img{max-width:100%;height:auto}" +
    ".content pre{overflow:auto;background:#f6f8fa;padding:8px;border-radius:6px}" +
    ".content table{border-collapse:collapse;display:block;overflow:auto}" +
    ".content td,.content th{border:1px solid #d0d7de;padding:4px 6px}" +
    ".content a,.full{color:#0b5cad}" +
    ".feedback{margin-top:16px;padding-top:12px;border-top:1px solid #d0d7de}" +
    ".feedback p{margin:0 0 8px;font-weight:600}" +
    ".notice{padding:10px 12px;border-radius:8px;background:#eef6ee;border:1px solid #9fd19f}" +
    ".error{background:#fdeeee;border-color:#e6a1a1}" +
    ".still{margin-top:18px;color:#57606a}";

  var host, root, launcher, panel, title, backBtn, body, lastFocus;
  var view = "search";
  var state = { q: "", searchId: null, results: [], seq: 0, timer: 0, article: null, from: null };

  function h(tag, attrs, kids) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") el.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== false) el.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (kids || []).forEach(function (kid) { if (kid) el.appendChild(kid); });
    return el;
  }

  function api(path, options) {
    return fetch(API + path, options).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function sendEvents(events) {
    if (!KEY) return Promise.resolve();
    events.forEach(function (e) {
      e.id = uuid();
      e.journey_id = journey;
      e.channel = "widget";
      e.locale = LOCALE;
    });
    return api("events", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + KEY },
      body: JSON.stringify({ events: events }),
      keepalive: true
    }).catch(function () {});
  }

  function build() {
    if (host) return;
    host = h("div", { "data-kb-widget": "" });
    root = host.attachShadow({ mode: "open" });
    if (root.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(h("style", { text: CSS }));
    }
    launcher = h("button", {
      class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "kb-panel",
      "aria-haspopup": "dialog", onclick: function () { panel.hidden ? open() : close(); }
    }, [h("span", { "aria-hidden": "true", text: "? " }), document.createTextNode(S.help)]);
    backBtn = h("button", { type: "button", "aria-label": S.back, title: S.back, text: "←", hidden: true, onclick: showSearch });
    title = h("h2", { id: "kb-title", text: S.title });
    body = h("div", { class: "body" });
    panel = h("div", {
      class: "panel", id: "kb-panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "kb-title",
      lang: LOCALE, hidden: true, onkeydown: onKey
    }, [
      h("header", {}, [backBtn, title, h("button", { type: "button", "aria-label": S.close, title: S.close, text: "×", onclick: close })]),
      body
    ]);
    root.appendChild(h("div", { class: "kb", lang: LOCALE }, [launcher, panel]));
    document.body.appendChild(host);
    showSearch();
  }

  function onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Tab") {
      // Keep focus inside the open panel.
      var items = Array.prototype.filter.call(
        panel.querySelectorAll("button,a[href],input,textarea,select,[tabindex]:not([tabindex='-1'])"),
        function (el) { return !el.disabled && !el.hidden && el.getClientRects().length; }
      );
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1], active = root.activeElement;
      if (event.shiftKey && (active === first || !panel.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && view === "search") {
      var buttons = Array.prototype.slice.call(body.querySelectorAll(".result"));
      var input = body.querySelector("input");
      var at = buttons.indexOf(root.activeElement);
      if (!buttons.length || (at < 0 && root.activeElement !== input)) return;
      event.preventDefault();
      var next = at + (event.key === "ArrowDown" ? 1 : -1);
      (next < 0 ? input : buttons[Math.min(next, buttons.length - 1)]).focus();
    }
  }

  function open() {
    build();
    if (panel.hidden) lastFocus = document.activeElement;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    var target = body.querySelector("input") || panel.querySelector("header button:not([hidden])");
    if (target) target.focus();
  }

  function close() {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    // Back to what opened the panel: a host page button, else the help button.
    var back = lastFocus && lastFocus !== document.body && lastFocus !== host && lastFocus.isConnected;
    (back ? lastFocus : launcher).focus();
  }

  function setView(name, heading) {
    view = name;
    title.textContent = heading;
    backBtn.hidden = name === "search";
    body.textContent = "";
    body.scrollTop = 0;
  }

  function showSearch() {
    setView("search", S.title);
    var input = h("input", {
      id: "kb-q", type: "search", autocomplete: "off", maxlength: "500", placeholder: S.ask,
      "aria-describedby": "kb-status", "aria-controls": "kb-results",
      oninput: function () {
        clearTimeout(state.timer);
        var q = input.value;
        state.timer = setTimeout(function () { search(q); }, 250);
      }
    });
    input.value = state.q;
    body.appendChild(h("label", { for: "kb-q", class: "vh", text: S.ask }));
    body.appendChild(input);
    body.appendChild(h("p", { id: "kb-status", class: "status", role: "status", "aria-live": "polite" }));
    body.appendChild(h("ul", { id: "kb-results", "aria-label": S.suggested }));
    body.appendChild(h("p", { class: "still" }, [
      document.createTextNode(S.still + " "),
      h("button", { type: "button", class: "link", text: S.contact, onclick: function () { escalate(null); } })
    ]));
    renderResults();
    if (!panel.hidden) input.focus();
  }

  function search(q) {
    state.q = q;
    var text = q.trim();
    var seq = ++state.seq;
    if (text.length < 2) {
      state.results = [];
      state.searchId = null;
      state.suggestion = null;
      return renderResults();
    }
    setStatus(S.searching);
    var params = new URLSearchParams({ q: text, locale: LOCALE, limit: "6", channel: "widget", journey_id: journey });
    return api("search?" + params).then(function (data) {
      if (seq !== state.seq) return;
      state.results = data.results || [];
      state.searchId = data.search_id;
      state.suggestion = data.suggestion;
      renderResults();
    }, function () {
      if (seq === state.seq) setStatus(S.error);
    });
  }

  function setStatus(text) {
    var status = view === "search" && body.querySelector(".status");
    if (status) status.textContent = text;
  }

  function renderResults() {
    var list = view === "search" && body.querySelector("ul");
    if (!list) return;
    list.textContent = "";
    if (state.q.trim().length < 2) return setStatus("");
    setStatus(state.results.length ? S.suggested : S.none);
    if (state.suggestion) {
      var status = body.querySelector(".status");
      status.appendChild(document.createTextNode(" " + S.didYouMean + " "));
      status.appendChild(h("button", {
        type: "button", class: "link", text: state.suggestion,
        onclick: function () { body.querySelector("input").value = state.suggestion; search(state.suggestion); }
      }));
    }
    state.results.forEach(function (hit, i) {
      list.appendChild(h("li", {}, [
        h("button", {
          type: "button", class: "result", "data-article-id": hit.id,
          onclick: function () { openArticle(hit.id, { search_id: state.searchId, rank: i + 1 }); }
        }, [h("b", { text: hit.title }), hit.summary ? h("span", { text: hit.summary }) : null])
      ]));
    });
  }

  function openArticle(id, from) {
    open();
    from = from || {};
    setView("article", S.loading);
    return api("articles/" + encodeURIComponent(id)).then(function (article) {
      state.article = article;
      state.from = from;
      var events = [{ type: "view", article_id: article.id, search_id: from.search_id || null }];
      if (from.rank) events.unshift({ type: "click", article_id: article.id, search_id: from.search_id, rank: from.rank });
      sendEvents(events);
      renderArticle(article);
    }, function () {
      setView("article", S.title);
      body.appendChild(h("p", { class: "notice error", role: "alert", text: S.error }));
    });
  }

  function renderArticle(article) {
    setView("article", S.title);
    var content = h("div", { class: "content" });
    // The API sanitises article HTML on the server; links are made absolute to the help center.
    content.innerHTML = article.html || "";
    Array.prototype.forEach.call(content.querySelectorAll("a[href]"), function (a) {
      // Heading permalinks mean nothing inside the panel.
      if (a.getAttribute("href").charAt(0) === "#" && a.closest("h1,h2,h3,h4,h5,h6")) return a.remove();
      a.href = new URL(a.getAttribute("href"), base).href;
      a.target = "_blank";
      a.rel = "noopener";
    });
    Array.prototype.forEach.call(content.querySelectorAll("img[src]"), function (img) {
      img.src = new URL(img.getAttribute("src"), base).href;
    });
    var feedback = h("div", { class: "feedback", role: "group", "aria-labelledby": "kb-asked" });
    var heading = h("h3", { id: "kb-article-title", tabindex: "-1", text: article.title });
    body.appendChild(h("article", { class: "article", "aria-labelledby": "kb-article-title" }, [
      heading,
      content,
      h("p", {}, [h("a", { class: "full", href: new URL(article.url, base).href, target: "_blank", rel: "noopener", text: S.full })]),
      feedback
    ]));
    askHelpful(feedback);
    heading.focus();
  }

  function outcome(type, reason) {
    var a = state.article;
    return sendEvents([{ type: type, article_id: a.id, search_id: state.from.search_id || null, reason: reason || null }]);
  }

  function askHelpful(box) {
    box.textContent = "";
    box.appendChild(h("p", { id: "kb-asked", text: S.asked }));
    box.appendChild(h("button", {
      type: "button", class: "btn primary", text: S.yes,
      onclick: function () {
        outcome("resolved");
        say(box, S.thanks, null);
      }
    }));
    box.appendChild(h("button", {
      type: "button", class: "btn", text: S.no,
      onclick: function () {
        box.textContent = "";
        box.appendChild(h("p", { id: "kb-why", text: S.why }));
        ["not_related", "didnt_answer"].forEach(function (reason, i) {
          box.appendChild(h("button", {
            type: "button", class: "btn", "data-reason": reason, text: S[reason],
            onclick: function () {
              outcome("rejected", reason);
              say(box, S.sorry, true);
            }
          }));
          if (i === 0) box.lastChild.setAttribute("aria-describedby", "kb-why");
        });
        box.querySelector("button").focus();
      }
    }));
  }

  function say(box, text, offerContact) {
    box.textContent = "";
    var note = h("p", { class: "notice", role: "status", tabindex: "-1", text: text });
    box.appendChild(note);
    if (offerContact) {
      box.appendChild(h("button", { type: "button", class: "btn primary", text: S.contact, onclick: function () { escalate(state.article); } }));
      box.appendChild(h("button", { type: "button", class: "btn", text: S.back, onclick: showSearch }));
    }
    note.focus();
  }

  function escalate(article) {
    sendEvents([{ type: "escalated", article_id: article ? article.id : null, search_id: state.searchId }]);
    setView("contact", S.contact);
    var field = function (name, tag, attrs) {
      attrs.id = "kb-" + name;
      attrs.name = name;
      attrs.required = true;
      return [h("label", { for: attrs.id, text: S[name] }), h(tag, attrs)];
    };
    var message = h("p", { role: "status", "aria-live": "polite" });
    var send = h("button", { type: "submit", class: "btn primary", text: S.send });
    var form = h("form", { novalidate: false }, [].concat(
      field("subject", "input", { type: "text", maxlength: "200", value: state.q.trim() }),
      field("message", "textarea", { rows: "5", maxlength: "5000" }),
      field("email", "input", { type: "email", autocomplete: "email", maxlength: "254" }),
      [h("p", {}, [send]), message]
    ));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = { journey_id: journey, locale: LOCALE };
      ["subject", "message", "email"].forEach(function (name) { data[name] = form.elements[name].value.trim(); });
      if (state.searchId) data.search_id = state.searchId;
      if (article) data.article_id = article.id;
      send.disabled = true;
      message.className = "status";
      message.textContent = S.sending;
      api("contact", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + KEY },
        body: JSON.stringify(data)
      }).then(function (answer) {
        body.textContent = "";
        var done = h("p", { class: "notice", role: "status", tabindex: "-1", text: S.sent.replace("{id}", answer.ticket_id) });
        body.appendChild(done);
        done.focus();
      }, function () {
        send.disabled = false;
        message.className = "notice error";
        message.textContent = S.error;
      });
    });
    body.appendChild(form);
    form.elements.subject.focus();
  }

  function run(method, args) {
    var fn = { open: open, close: close, search: apiSearch, openArticle: openArticle }[method];
    return fn && fn.apply(null, args || []);
  }

  function apiSearch(q) {
    open();
    if (view !== "search") showSearch();
    body.querySelector("input").value = q;
    return search(q);
  }

  // Commands queued by the host page before this async script ran: window.KB = [["open"]].
  var queued = Array.isArray(window.KB) ? window.KB : [];
  window.KB = { version: 1, locale: LOCALE, journeyId: journey, open: open, close: close, search: apiSearch, openArticle: openArticle };

  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-kb-open],[data-kb-search],[data-kb-article]");
    if (!el) return;
    event.preventDefault();
    if (el.hasAttribute("data-kb-search")) apiSearch(el.getAttribute("data-kb-search"));
    else if (el.hasAttribute("data-kb-article")) openArticle(el.getAttribute("data-kb-article"));
    else open();
  });

  function start() {
    build();
    queued.forEach(function (call) { run(call[0], call.slice(1)); });
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();

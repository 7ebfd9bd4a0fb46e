// Contact page enhancement: article suggestions while the subject is typed.
// The page works without it (the subject form is a plain GET that searches).
(function () {
  "use strict";
  var input = document.getElementById("contact-subject");
  var box = document.getElementById("contact-live-suggestions");
  if (!input || !box || !window.fetch) return;
  var locale = document.documentElement.lang || "en";
  var timer = null;
  var latest = 0;

  function render(results) {
    box.textContent = "";
    if (!results.length) { box.hidden = true; return; }
    var heading = document.createElement("p");
    heading.className = "muted small";
    heading.textContent = box.getAttribute("data-heading");
    var list = document.createElement("ul");
    list.className = "article-list";
    results.forEach(function (article) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = article.url;
      link.textContent = article.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(list);
    box.hidden = false;
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var query = input.value.trim();
    if (query.length < 2) { render([]); return; }
    timer = setTimeout(function () {
      var ticket = ++latest;
      var url = "/api/v1/suggest?limit=5&locale=" + encodeURIComponent(locale) +
        "&q=" + encodeURIComponent(query);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { if (ticket === latest) render(data.results || []); })
        .catch(function () { /* suggestions are optional */ });
    }, 250);
  });
})();

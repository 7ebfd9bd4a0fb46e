// Progressive enhancement of the helpfulness vote: post it without a page reload and
// swap in the server-rendered section. Without JavaScript the plain form still works.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) return;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var section = form.closest && form.closest("[data-kb-helpfulness]");
    if (!section || form.dataset.kbPlain) return;
    event.preventDefault();
    var submitter = event.submitter;
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-KB-Fragment": "1" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        section.innerHTML = html;
        var status = section.querySelector("[role=status]");
        if (status) {
          status.setAttribute("tabindex", "-1");
          status.focus();
        }
      })
      .catch(function () {
        // Fall back to the plain form post, which shows the server's answer.
        form.dataset.kbPlain = "1";
        if (submitter) submitter.click();
        else form.submit();
      });
  });
})();

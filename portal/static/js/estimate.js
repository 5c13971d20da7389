/* The request form's live cost estimate (附件1): the form's fields are sent to the portal, which
   answers the monthly fee at the current rate card as JSON; while no rate exists there is no
   estimate at all. Served from /static (the CSP allows no inline script). */
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  var box = document.getElementById("cost-estimate");
  if (!form || !box || !box.dataset.url) {
    return;
  }
  var timer = null;
  var asked = 0;

  function show(answer) {
    if (answer && answer.priced) {
      box.textContent = answer.text;
      box.hidden = false;
    } else {
      box.textContent = "";
      box.hidden = true;
    }
  }

  function update() {
    var mine = ++asked;
    var data = new FormData(form);
    data.delete("construction_plan_file");
    data.delete("self_test_file");
    fetch(box.dataset.url, {method: "POST", body: data, credentials: "same-origin",
                            headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (mine === asked && answer) {
          show(answer);
        }
      })
      .catch(function () { /* the last estimate stays; the next change asks again */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
}());

/* The provisioning progress bar of a request's page: polls the page's progress.json every
   data-interval milliseconds and stops once the job has ended (succeeded, failed or errored). */
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || box.dataset.finished === "true") { return; }
  var url = box.dataset.progressUrl;
  var interval = parseInt(box.dataset.interval, 10) || 2000;
  var bar = document.getElementById("progress-bar");
  var failures = 0;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined && value !== null) { el.textContent = value; }
  }

  function show(p) {
    bar.value = p.percent;
    bar.textContent = p.percent + "%";
    bar.classList.toggle("is-done", p.finished && !p.failed);
    bar.classList.toggle("is-failed", p.failed);
    text("progress-step", p.step_label || p.job_state_label);
    text("progress-count", p.count_label);
    text("progress-state", p.job_state_label);
    text("progress-percent", p.percent + "%");
    text("request-state", p.request_state_label);
    var row = document.getElementById("job-" + p.job_id);  /* the job's row in the table below */
    if (row) {
      row.querySelector(".job-state").textContent = p.job_state_label;
      row.querySelector(".job-step").textContent = p.step_label;
      row.querySelector(".job-step").title = p.step;
      row.querySelector(".job-attempts").textContent = p.attempts;
    }
    if (p.finished) {
      box.dataset.finished = "true";
      document.getElementById("progress-reload").classList.remove("d-none");
    }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (p) {
        failures = 0;
        show(p);
        if (!p.finished) { window.setTimeout(poll, interval); }
      })
      .catch(function () {
        failures += 1;  /* a restarting portal: try again, more slowly, then give up */
        if (failures < 10) { window.setTimeout(poll, interval * failures); }
      });
  }

  window.setTimeout(poll, interval);
}());

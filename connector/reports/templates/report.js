
(function () {
  "use strict";

  var SEVERITY = { critical: 4, error: 3, warning: 2, info: 1 };

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
  }

  function compare(kind, a, b) {
    if (kind === "number") {
      var x = a === "" ? NaN : Number(a);
      var y = b === "" ? NaN : Number(b);
      if (isNaN(x) && isNaN(y)) return 0;
      if (isNaN(x)) return 1;
      if (isNaN(y)) return -1;
      return x - y;
    }
    if (kind === "severity") return (SEVERITY[a] || 0) - (SEVERITY[b] || 0);
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.children);
    var index = headers.indexOf(th);
    var kind = th.getAttribute("data-type") || "text";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var order = compare(kind, cellValue(r1, index), cellValue(r2, index));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-type] button.sort").forEach(function (button) {
      button.addEventListener("click", function () { sortBy(table, button.parentNode); });
    });
  });

  function applyFilter(input) {
    var group = input.getAttribute("data-filter");
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = document.querySelectorAll('[data-filter-row="' + group + '"]');
    var shown = 0, total = 0;
    rows.forEach(function (row) {
      var text = (row.getAttribute("data-filter-text") || row.textContent).toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      row.hidden = !match;
      if (row.tagName === "TR") { total += 1; if (match) shown += 1; }
    });
    var count = document.querySelector('[data-count="' + group + '"]');
    if (count) count.textContent = words.length ? shown + " of " + total : "";
  }

  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    input.addEventListener("input", function () { applyFilter(input); });
  });

  // a link to a set card (the mesh map's nodes, the tables' set names) opens the card
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  var button = document.getElementById("download-json");
  var data = document.getElementById("featmesh-report-data");
  if (button && data) {
    button.addEventListener("click", function () {
      var report = JSON.parse(data.textContent);
      var blob = new Blob([JSON.stringify(report, null, 2)], { type: "application/json" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "featmesh-report-" + (report.run.run_id || "run") + ".json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
  }
  document.documentElement.setAttribute("data-report-ready", "1");
})();

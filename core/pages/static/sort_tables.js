// Every table.sortable sorts by a click on (or Enter at) a header with
// data-key; "#sort=<table id>:<key>:<asc|desc>" sorts one on opening.
// Numbers (cells carry their raw value in data-value) sort as numbers,
// all else as text with digit runs compared by value ("img9" < "img10").
(function () {
  "use strict";
  var text = new Intl.Collator(undefined, {numeric: true});
  function value(row, index) {
    var cell = row.cells[index];
    return cell.hasAttribute("data-value") ?
      cell.getAttribute("data-value") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return text.compare(a, b);
  }
  function sortTable(table, key, descending) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var index = headers.findIndex(function (th) {
      return th.getAttribute("data-key") === key;
    });
    if (index < 0) { return; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var order = compare(value(a, index), value(b, index));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    headers.forEach(function (th) { th.removeAttribute("aria-sort"); });
    headers[index].setAttribute(
      "aria-sort", descending ? "descending" : "ascending");
    table.setAttribute(
      "data-sorted", key + ":" + (descending ? "desc" : "asc"));
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-key]").forEach(function (th) {
      function toggle() {
        var descending = th.getAttribute("aria-sort") === "ascending";
        sortTable(table, th.getAttribute("data-key"), descending);
      }
      th.tabIndex = 0;
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle();
        }
      });
    });
  });
  var match = /^#sort=([^:]+):([^:]+):(asc|desc)$/.exec(
    decodeURIComponent(location.hash));
  var table = match && document.getElementById(match[1]);
  if (table && table.classList.contains("sortable")) {
    sortTable(table, match[2], match[3] === "desc");
  }
})();

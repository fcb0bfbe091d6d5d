// Filters for the report's tables; the page reads fine without it.
document.querySelectorAll("[data-filter]").forEach(function (box) {
  var table = document.getElementById(box.getAttribute("data-filter"));
  var text = box.querySelector("input");
  var status = box.querySelector("select");
  var shown = box.querySelector(".shown");
  function apply() {
    var query = text.value.trim().toLowerCase();
    var wanted = status.value;
    var count = 0;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var keep = (!wanted || row.getAttribute("data-status") === wanted) &&
        (!query || row.textContent.toLowerCase().indexOf(query) >= 0);
      row.hidden = !keep;
      if (keep) count += 1;
    });
    shown.textContent = count + " shown";
  }
  text.addEventListener("input", apply);
  status.addEventListener("change", apply);
  box.hidden = false;
  apply();
});

// The page judges its own age when it is viewed: the render only knew its own moment. Times
// come from the page itself (no request); without this script the page shows absolute times.
(function () {
  var root = document.documentElement;
  var checked = Date.parse(root.getAttribute("data-last-collected"));
  var staleAt = Date.parse(root.getAttribute("data-stale-at"));

  // The two largest whole units, as the render's duration filter writes them: "1 d 6 h",
  // never "1 d 0 h 5 min".
  function span(seconds) {
    var units = [["d", 86400], ["h", 3600], ["min", 60]];
    var out = [];
    for (var i = 0; i < units.length && out.length < 2; i++) {
      if (seconds >= units[i][1]) {
        out.push(Math.floor(seconds / units[i][1]) + " " + units[i][0]);
        seconds %= units[i][1];
      } else if (out.length) {
        break;
      }
    }
    return out.length ? out.join(" ") : seconds + " s";
  }

  function each(selector, apply) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), apply);
  }

  function judge() {
    var now = Date.now();
    var stale = !(now <= staleAt); // never collected (NaN) is stale too
    var until = stale && checked ? checked : now;
    each("[data-stale]", function (e) { e.hidden = !stale; });
    each("[data-fresh]", function (e) { e.hidden = stale; });
    each("[data-stale-class]", function (e) {
      e.className = e.getAttribute(stale ? "data-stale-class" : "data-fresh-class");
    });
    each("time[data-ago]", function (e) {
      var seconds = Math.floor((now - Date.parse(e.dateTime)) / 1000);
      e.textContent = seconds < 0 ? "in the future" : seconds < 60 ? "just now" : span(seconds) + " ago";
    });
    each("time[data-for]", function (e) {
      e.textContent = span(Math.floor((until - Date.parse(e.dateTime)) / 1000));
    });
  }

  judge();
  document.addEventListener("DOMContentLoaded", judge);
  setInterval(judge, 60000);
})();

/* Client-side search over the clauses and rules of every policy in the report.
   The index is window.POLICYKIT_SEARCH, written by `policykit report` into search-index.js:
   nothing is fetched from the network. Results are built with textContent, never innerHTML,
   because policy texts are untrusted. */
(function () {
  "use strict";
  var form = document.querySelector("[data-search]");
  var box = document.getElementById("search-box");
  var panel = document.querySelector("[data-search-results]");
  if (!form || !box || !panel) {
    return;
  }
  var status = panel.querySelector("[role=status]");
  var list = panel.querySelector("ol");
  var entries = (window.POLICYKIT_SEARCH || []).map(function (entry) {
    return {
      entry: entry,
      title: (entry.p + " " + entry.t).toLowerCase(),
      text: (entry.x + " " + entry.m).toLowerCase()
    };
  });
  var LIMIT = 50;

  function score(item, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var inTitle = item.title.indexOf(words[i]) !== -1;
      if (!inTitle && item.text.indexOf(words[i]) === -1) {
        return -1;
      }
      total += inTitle ? 2 : 1;
    }
    return total;
  }

  function result(entry) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = entry.u;
    link.textContent = entry.p + " — " + entry.t;
    var snippet = document.createElement("p");
    snippet.textContent = entry.x.length > 220 ? entry.x.slice(0, 219) + "…" : entry.x;
    li.appendChild(link);
    li.appendChild(snippet);
    return li;
  }

  function run() {
    var query = box.value.trim();
    var words = query.toLowerCase().split(/\s+/).filter(Boolean);
    list.textContent = "";
    if (!words.length) {
      panel.hidden = true;
      return;
    }
    var hits = [];
    entries.forEach(function (item, position) {
      var s = score(item, words);
      if (s >= 0) {
        hits.push({ item: item, score: s, position: position });
      }
    });
    hits.sort(function (a, b) { return b.score - a.score || a.position - b.position; });
    status.textContent = hits.length
      ? hits.length + (hits.length === 1 ? " clause or rule matches " : " clauses and rules match ") + "“" + query + "”" +
        (hits.length > LIMIT ? " (the first " + LIMIT + " are shown)" : "")
      : "No clause or rule matches “" + query + "”";
    hits.slice(0, LIMIT).forEach(function (hit) { list.appendChild(result(hit.item.entry)); });
    panel.hidden = false;
  }

  box.addEventListener("input", run);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
    var first = list.querySelector("a");
    if (first) {
      first.focus();
    }
  });
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      box.value = "";
      run();
    }
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    box.value = initial;
    run();
  }
})();

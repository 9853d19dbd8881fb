// The report's only script: sorts, searches and pages the ranking table, and builds a
// document's section from the inline JSON when it is opened. Document text is only ever
// inserted with textContent / createTextNode, never parsed as HTML.
// State can be given in the address: #doc-3 opens a document; #q=word&sort=index&dir=asc&page=2
// filters, sorts and pages the table, and facet=sector:finance (repeatable, one per family) keeps only
// the documents with that document facet (the address is kept up to date as you use it).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("policylens-data").textContent);
  var LABELS = { c: "centralized", s: "sector_specific", n: "neutral" };
  var NAMES = { centralized: "centralized", sector_specific: "sector-specific", neutral: "neutral" };
  var ROLES = { a: "architecture", p: "provision", o: "other" };
  var byAnchor = {};
  data.documents.forEach(function (d) { byAnchor[d.anchor] = d; });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function signed(x, digits) { return (x > 0 ? "+" : x < 0 ? "\u2212" : "") + Math.abs(x).toFixed(digits); }
  function lean(x) { return x > 0.1 ? "centralized" : x < -0.1 ? "sector_specific" : "neutral"; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  // --- one sentence -------------------------------------------------------------------
  function sentence(s, evidence) {
    var label = LABELS[s.l] || "neutral";
    var li = el("li", "sent lab-" + label);
    if (s.pr) {
      li.title = ["centralized", "sector_specific", "neutral"].map(function (name, i) {
        return "P(" + NAMES[name] + ") = " + s.pr[i].toFixed(2);
      }).join(" \u00b7 ");
    } else if (s.w !== undefined) {
      li.title = "weight " + signed(s.w, 3);
    }
    li.appendChild(el("span", "badge badge-" + label, NAMES[label]));
    if (evidence && s.w !== undefined) {
      var w = el("span", "weight " + (s.w > 0 ? "pos" : "neg"), signed(s.w, 3).replace("\u2212", "-"));
      w.title = "this sentence's share of the index";
      li.appendChild(w);
    }
    var text = el("span", "text");
    var pos = 0;
    (s.c || []).forEach(function (cue) {
      if (cue[0] < pos) { return; }
      text.appendChild(document.createTextNode(s.t.slice(pos, cue[0])));
      var side = cue[2] === "s" ? "sector_specific" : "centralized";
      var mark = el("mark", "cue cue-" + side + (cue[3] ? " negated" : ""), s.t.slice(cue[0], cue[1]));
      mark.title = cue[3] ? "negated " + NAMES[side] + " cue: counts for " +
        (side === "centralized" ? "sector-specific" : "centralized") : NAMES[side] + " cue";
      text.appendChild(mark);
      pos = cue[1];
    });
    text.appendChild(document.createTextNode(s.t.slice(pos)));
    if (s.x) {
      var cut = el("span", "cut", "\u2026");
      cut.title = "sentence shortened in this report";
      text.appendChild(cut);
    }
    li.appendChild(text);
    if (s.p !== undefined && s.p !== null) { li.appendChild(el("span", "page", "p.\u00a0" + s.p)); }
    if (s.r) {
      var role = el("span", "role", ROLES[s.r] || s.r);
      role.title = "role (codebook v2.0), p = " + s.rp;
      li.appendChild(role);
    }
    if (s.f) { li.appendChild(el("span", "facets", s.f)); }
    return li;
  }
  function list(tag, cls, sentences, evidence) {
    var node = el(tag, "sentences " + cls);
    sentences.forEach(function (s) { node.appendChild(sentence(s, evidence)); });
    return node;
  }

  // --- a document's facets: each assigned value with its probability and evidence ------
  function facetBlock(families) {
    var dl = el("dl", "doc-facets");
    families.forEach(function (fam) {
      dl.appendChild(el("dt", null, fam.t));
      var dd = el("dd");
      if (!fam.v.length) { dd.appendChild(el("span", "empty", "none assigned")); }
      fam.v.forEach(function (v) {
        var box = el("details", "facet-value");
        var summary = el("summary");
        summary.appendChild(el("span", "chip chip-" + fam.f, v.n));
        summary.appendChild(el("span", "facet-p", " P\u00a0=\u00a0" + v.p.toFixed(2)));
        if (v.m) { summary.appendChild(document.createTextNode(" \u00b7 named in " + plural(v.m, "sentence"))); }
        box.appendChild(summary);
        var ol = el("ol", "facet-evidence");
        v.e.forEach(function (e) {
          var li = el("li", null, e[0]);
          if (e[1] !== null && e[1] !== undefined) { li.appendChild(el("span", "page", "p.\u00a0" + e[1])); }
          if (!e[2]) { li.appendChild(el("span", "facets", "(words that weigh for this value; no phrase-list match)")); }
          ol.appendChild(li);
        });
        box.appendChild(ol);
        dd.appendChild(box);
      });
      dl.appendChild(dd);
    });
    return dl;
  }

  // --- one document's section ---------------------------------------------------------
  function section(d) {
    var side = lean(d.index);
    var box = el("details", "doc lean-" + side);
    box.id = d.anchor;
    box.open = true;
    var summary = el("summary");
    summary.appendChild(el("span", "rank", "#" + d.rank));
    summary.appendChild(el("span", "doc-title", d.title));
    summary.appendChild(el("span", "pill pill-" + side, signed(d.index, 3).replace("\u2212", "-")));
    box.appendChild(summary);
    var meta = el("p", "doc-meta");
    meta.appendChild(el("code", null, d.doc));
    var parts = [];
    if (d.pg) { parts.push(plural(d.pg, "page")); }
    parts.push(d.n_sentences + " sentences: " + d.k[0] + " centralized, " + d.k[1] + " sector-specific, " +
               d.k[2] + " neutral");
    parts.push("95% interval [" + signed(d.ci_low, 3) + ", " + signed(d.ci_high, 3) + "]");
    parts.push("scope " + d.scope + (d.scope_overridden ? " (set by the user)" : ""));
    d.m.forEach(function (pair) { parts.push(pair[0] + ": " + pair[1]); });
    meta.appendChild(document.createTextNode(" \u00b7 " + parts.join(" \u00b7 ")));
    box.appendChild(meta);
    if (d.df && d.df.length) {
      box.appendChild(el("h4", null, "Document facets"));
      box.appendChild(facetBlock(d.df));
    }
    if (!d.found) {
      box.appendChild(el("p", "empty", "The sentences of this document were not available to the report."));
    }
    if (d.e.length) {
      box.appendChild(el("h4", null, "Evidence"));
      box.appendChild(list("ol", "evidence", d.e, true));
    }
    if (d.he) { box.appendChild(el("p", "capped", d.he + " more evidence sentences left out (report size limit).")); }
    if (d.found) {
      box.appendChild(el("h4", null, "Other governance sentences"));
      if (d.g.length) {
        box.appendChild(list("ul", "governance", d.g, false));
      } else if (!d.hg) {
        box.appendChild(el("p", "empty", "None beyond the evidence."));
      }
      if (d.hg) {
        box.appendChild(el("p", "capped", plural(d.hg, "more governance sentence") +
          " not shown (report limit " + data.limits.governance + " per document, or the report's size budget)."));
      }
      if (d.n.length || d.hn) {
        var neutral = el("details", "neutral-block");
        var text = plural(d.n.length, "neutral sentence");
        if (d.hn) { text += " shown, " + d.hn + " more left out (report limits)"; }
        neutral.appendChild(el("summary", null, text));
        neutral.appendChild(list("ul", "neutral", d.n, false));
        box.appendChild(neutral);
      }
    }
    return box;
  }
  function openDocument(anchor, scroll) {
    var d = byAnchor[anchor];
    if (!d) { return; }
    var node = document.getElementById(anchor);
    if (!node) {
      node = section(d);
      var holder = document.getElementById("document-list");
      holder.insertBefore(node, holder.firstChild);
    }
    node.open = true;
    if (scroll) { node.scrollIntoView(); }
  }

  // --- the table ----------------------------------------------------------------------
  var table = document.getElementById("ranking-table");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr.rank-row"));
  var heads = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-sort]"));
  var search = document.getElementById("table-search");
  var state = { q: "", sort: "rank", dir: "asc", page: 1 };
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var facetSelects = Array.prototype.slice.call(document.querySelectorAll(".facet-filter select"));
  var rowFacets = rows.map(function (r) { return JSON.parse(r.getAttribute("data-facets") || "[]"); });
  function chosenFacets() {
    return facetSelects.map(function (s) { return s.value; }).filter(Boolean);
  }

  function sortValue(row, key, numeric) {
    if (numeric) { return parseFloat(row.getAttribute("data-" + key)); }
    var cell = key === "title" ? row.cells[1] : key === "scope" ? row.cells[8] :
      row.cells[9 + parseInt(key.slice(1), 10)];
    return cell ? cell.textContent.trim().toLowerCase() : "";
  }
  function apply() {
    var head = heads.filter(function (h) { return h.getAttribute("data-sort") === state.sort; })[0] || heads[0];
    var numeric = head.getAttribute("data-type") === "num";
    var q = state.q.toLowerCase();
    var wanted = chosenFacets();
    var shown = rows.filter(function (r, i) {
      return (!q || texts[i].indexOf(q) >= 0) &&
        wanted.every(function (w) { return rowFacets[i].indexOf(w) >= 0; });
    });
    var sign = state.dir === "desc" ? -1 : 1;
    shown.sort(function (a, b) {
      var x = sortValue(a, state.sort, numeric), y = sortValue(b, state.sort, numeric);
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return parseInt(a.getAttribute("data-rank"), 10) - parseInt(b.getAttribute("data-rank"), 10);
    });
    var pages = Math.max(1, Math.ceil(shown.length / data.pageSize));
    state.page = Math.min(Math.max(1, state.page), pages);
    var first = (state.page - 1) * data.pageSize;
    rows.forEach(function (r) { r.hidden = true; });
    shown.forEach(function (r, i) {
      body.appendChild(r);
      r.hidden = i < first || i >= first + data.pageSize;
    });
    heads.forEach(function (h) {
      h.setAttribute("aria-sort", h === head ? (state.dir === "asc" ? "ascending" : "descending") : "none");
    });
    document.getElementById("page-info").textContent = "page " + state.page + " of " + pages + " \u00b7 " +
      plural(shown.length, "document") + (q || wanted.length ? " match" : "");
    document.getElementById("page-prev").disabled = state.page <= 1;
    document.getElementById("page-next").disabled = state.page >= pages;
  }
  function remember() {
    var params = [];
    if (state.q) { params.push("q=" + encodeURIComponent(state.q)); }
    if (state.sort !== "rank" || state.dir !== "asc") {
      params.push("sort=" + state.sort, "dir=" + state.dir);
    }
    if (state.page > 1) { params.push("page=" + state.page); }
    chosenFacets().forEach(function (f) { params.push("facet=" + encodeURIComponent(f)); });
    if (history.replaceState) { history.replaceState(null, "", params.length ? "#" + params.join("&") : "#"); }
  }
  function fromHash() {
    var hash = decodeURIComponent(location.hash.slice(1));
    if (/^doc-\d+$/.test(hash)) { openDocument(hash, true); return; }
    if (hash.indexOf("=") < 0) { return; }
    var facets = [];
    location.hash.slice(1).split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      var key = pair.slice(0, at), value = decodeURIComponent(pair.slice(at + 1).replace(/\+/g, " "));
      if (key === "q") { state.q = value; }
      if (key === "sort") { state.sort = value; }
      if (key === "dir") { state.dir = value === "desc" ? "desc" : "asc"; }
      if (key === "page") { state.page = parseInt(value, 10) || 1; }
      if (key === "doc") { openDocument(value, true); }
      if (key === "facet") { facets.push(value); }
    });
    facetSelects.forEach(function (s) {
      var family = s.getAttribute("data-family");
      var mine = facets.filter(function (f) { return f.indexOf(family + ":") === 0; });
      s.value = mine.length ? mine[mine.length - 1] : "";
    });
    search.value = state.q;
    apply();
  }

  heads.forEach(function (h) {
    h.classList.add("sortable");
    h.addEventListener("click", function () {
      var key = h.getAttribute("data-sort");
      state.dir = state.sort === key && state.dir === "asc" ? "desc" : "asc";
      if (state.sort !== key && h.getAttribute("data-type") === "num" && key !== "rank") { state.dir = "desc"; }
      state.sort = key;
      state.page = 1;
      apply();
      remember();
    });
  });
  search.addEventListener("input", function () { state.q = search.value; state.page = 1; apply(); remember(); });
  facetSelects.forEach(function (s) {
    s.addEventListener("change", function () { state.page = 1; apply(); remember(); });
  });
  document.getElementById("page-prev").addEventListener("click", function () { state.page -= 1; apply(); remember(); });
  document.getElementById("page-next").addEventListener("click", function () { state.page += 1; apply(); remember(); });
  document.querySelector(".table-tools").hidden = false;
  window.addEventListener("hashchange", fromHash);

  for (var i = data.open - 1; i >= 0; i--) { openDocument(data.documents[i].anchor, false); }
  apply();
  fromHash();
})();

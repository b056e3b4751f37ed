// The query page: canned queries one click away, results as a table. Every value from the graph is put in the
// page with textContent, never innerHTML, so text from the documents cannot become markup.
"use strict";
(function () {
  const form = document.getElementById("query-form");
  const textarea = document.getElementById("query");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const results = document.getElementById("results");
  const endpoint = form.getAttribute("action");
  const graphBase = form.dataset.graphBase || "";
  const prefix = form.dataset.prefix || "/";
  const canned = JSON.parse(document.getElementById("canned-data").textContent);
  const byName = Object.fromEntries(canned.map((q) => [q.name, q]));

  function localHref(iri) {
    return graphBase && iri.startsWith(graphBase) ? prefix + iri.slice(graphBase.length) : iri;
  }

  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = localHref(term.value);
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.type === "bnode" ? "_:" + term.value : term.value;
      if (term.datatype && /#(integer|decimal|double)$/.test(term.datatype)) td.className = "num";
    }
    return td;
  }

  function table(json) {
    const vars = json.head.vars;
    const t = document.createElement("table");
    t.id = "results-table";
    const head = t.createTHead().insertRow();
    for (const v of vars) {
      const th = document.createElement("th");
      th.textContent = v;
      head.appendChild(th);
    }
    const body = t.createTBody();
    for (const b of json.results.bindings) {
      const tr = body.insertRow();
      for (const v of vars) tr.appendChild(cell(b[v]));
    }
    t.dataset.rows = String(json.results.bindings.length);
    return t;
  }

  async function run(text) {
    errorBox.hidden = true;
    errorBox.textContent = "";
    results.replaceChildren();
    status.textContent = "running…";
    const t0 = performance.now();
    let resp;
    try {
      resp = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/sparql-results+json, text/turtle;q=0.9" },
        body: new URLSearchParams({ query: text }),
      });
    } catch (e) {
      status.textContent = "failed";
      errorBox.textContent = String(e);
      errorBox.hidden = false;
      return;
    }
    const ms = Math.round(performance.now() - t0);
    if (!resp.ok) {
      status.textContent = `failed (${resp.status})`;
      errorBox.textContent = await resp.text();
      errorBox.hidden = false;
      return;
    }
    const ctype = resp.headers.get("Content-Type") || "";
    if (ctype.includes("json")) {
      const json = await resp.json();
      if ("boolean" in json) {
        const p = document.createElement("p");
        p.id = "results-boolean";
        p.textContent = String(json.boolean);
        results.appendChild(p);
        status.textContent = `answer in ${ms} ms`;
      } else {
        results.appendChild(table(json));
        const n = json.results.bindings.length;
        status.textContent = `${n} row${n === 1 ? "" : "s"} in ${ms} ms`;
      }
    } else {
      const pre = document.createElement("pre");
      pre.id = "results-graph";
      pre.textContent = await resp.text();
      results.appendChild(pre);
      status.textContent = `graph in ${ms} ms`;
    }
  }

  function load(name, andRun) {
    const q = byName[name];
    if (!q) return;
    textarea.value = q.text;
    for (const b of document.querySelectorAll("button.canned-query")) b.classList.toggle("active", b.dataset.name === name);
    if (andRun) run(q.text);
  }

  for (const button of document.querySelectorAll("button.canned-query")) {
    button.addEventListener("click", () => {
      history.replaceState(null, "", "#" + button.dataset.name);
      load(button.dataset.name, true);
    });
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(textarea.value);
  });
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run(textarea.value);
    }
  });
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (byName[wanted]) load(wanted, true);
  else if (!textarea.value.trim() && canned.length) load(canned[0].name, false);
})();

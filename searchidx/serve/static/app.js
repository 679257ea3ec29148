// The search page: the state lives in the URL's fragment (#q=...&category=...&page=2),
// so Back, Forward and bookmarks work; every view is drawn from it with the JSON API.
// Text from the index is only ever set as text (never as HTML).
"use strict";

const PAGE_SIZE = 10;
const FACET_LABELS = { category: "Category", source: "Source", month: "Month" };
const $ = (id) => document.getElementById(id);

function state() {
  return new URLSearchParams(location.hash.slice(1));
}

function go(params) {
  location.hash = params.toString();
}

function changed(edit) {
  const params = state();
  params.delete("article");
  edit(params);
  return "#" + params.toString();
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// Text with its [start, end) spans (offsets in code points, as Python counts) in <mark>.
function marked(text, spans) {
  const chars = Array.from(text);
  const out = document.createDocumentFragment();
  let last = 0;
  for (const [start, end] of spans || []) {
    out.append(chars.slice(last, start).join(""), element("mark", {}, chars.slice(start, end).join("")));
    last = end;
  }
  out.append(chars.slice(last).join(""));
  return out;
}

async function api(path, params) {
  const response = await fetch(`/v1/${path}?${params || ""}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function monthRange(month) {
  const [year, number] = month.split("-").map(Number);
  const last = new Date(year, number, 0).getDate();
  return [`${month}-01`, `${month}-${String(last).padStart(2, "0")}`];
}

// --- results -----------------------------------------------------------------------

function hitItem(hit) {
  const meta = [hit.date ? hit.date.slice(0, 10) : "", hit.category, hit.source].filter(Boolean).join(" · ");
  const open = changed((p) => p.set("article", hit.id));
  const similar = "#" + new URLSearchParams({ similar: hit.id }).toString();
  return element(
    "li", { class: "hit" },
    element("h2", {}, element("a", { href: open, class: "title" }, marked(hit.title, hit.title_highlights))),
    element("div", { class: "meta" }, meta),
    element("p", { class: "snippet" }, marked(hit.snippet, hit.highlights)),
    element("a", { href: similar, class: "similar" }, "Similar articles"),
  );
}

function facetLink(name, value, count) {
  const href = changed((p) => {
    p.delete("page");
    if (name === "month") {
      const [from, to] = monthRange(value);
      p.set("from", from);
      p.set("to", to);
    } else if (!p.getAll(name).includes(value)) {
      p.append(name, value);
    }
  });
  return element("li", {}, element("a", { href, class: "facet", "data-facet": name }, value, " ",
    element("span", { class: "count" }, String(count))));
}

function drawFacets(facets) {
  const box = $("facets");
  box.replaceChildren();
  for (const [name, label] of Object.entries(FACET_LABELS)) {
    const counts = (facets || {})[name] || [];
    if (!counts.length) continue;
    const sorted = name === "month" ? [...counts].sort((a, b) => b.value.localeCompare(a.value)) : counts;
    box.append(element("h3", {}, label),
      element("ul", {}, ...sorted.slice(0, 12).map((c) => facetLink(name, c.value, c.count))));
  }
}

function drawFilters() {
  const params = state();
  const chips = [];
  for (const name of ["category", "source"]) {
    for (const value of params.getAll(name)) {
      const href = changed((p) => {
        const kept = p.getAll(name).filter((v) => v !== value);
        p.delete(name);
        kept.forEach((v) => p.append(name, v));
        p.delete("page");
      });
      chips.push(element("a", { href, class: "chip", title: "Remove this filter" }, `${name}: ${value} ×`));
    }
  }
  if (params.get("from") || params.get("to")) {
    const href = changed((p) => { p.delete("from"); p.delete("to"); p.delete("page"); });
    const range = `${params.get("from") || "…"} – ${params.get("to") || "…"}`;
    chips.push(element("a", { href, class: "chip", title: "Remove this filter" }, `date: ${range} ×`));
  }
  $("filters").replaceChildren(...chips);
}

function drawPager(results, page) {
  const last = Math.max(1, Math.ceil(results.total / PAGE_SIZE));
  $("pager").hidden = results.total <= PAGE_SIZE;
  $("page-number").textContent = `page ${page} of ${last}`;
  $("previous").disabled = page <= 1;
  $("next").disabled = page >= last;
}

function drawResults(results, page, heading) {
  const shown = results.hits.length
    ? `${results.hits[0].rank}–${results.hits[results.hits.length - 1].rank} of ${results.total}`
    : `no results`;
  $("status").textContent = `${heading}${shown} (${Math.round(results.took_ms)} ms)`;
  for (const warning of results.warnings || []) $("status").append(element("span", { class: "warning" }, warning));
  $("suggestion").hidden = !results.suggestion;
  if (results.suggestion) {
    $("suggested").textContent = results.suggestion;
    $("suggested").href = changed((p) => { p.set("q", results.suggestion); p.delete("page"); });
  }
  $("hits").replaceChildren(...results.hits.map(hitItem));
  drawFacets(results.facets);
  drawPager(results, page);
}

function query(params, page) {
  const out = new URLSearchParams({ limit: PAGE_SIZE, page });
  for (const name of ["category", "source"]) params.getAll(name).forEach((v) => out.append(name, v));
  for (const name of ["from", "to"]) if (params.get(name)) out.set(name, params.get(name));
  return out;
}

async function drawSearch(params) {
  const page = Number(params.get("page")) || 1;
  const similar = params.get("similar");
  if (similar) {
    const article = await api(`articles/${encodeURIComponent(similar)}`);
    drawResults(await api("similar", query(params, page) + "&" + new URLSearchParams({ id: similar })), page,
      `Like “${article.title}”: `);
    return;
  }
  if (!params.get("q") && ![...params.keys()].some((k) => ["category", "source", "from", "to"].includes(k))) {
    const stats = await api("stats");
    $("status").textContent = `${stats.documents} articles indexed. Type a query, with or without diacritics.`;
    $("hits").replaceChildren();
    $("facets").replaceChildren();
    $("pager").hidden = $("suggestion").hidden = true;
    return;
  }
  const search = query(params, page);
  search.set("q", params.get("q") || "");
  search.set("sort", params.get("sort") || "relevance");
  search.set("facets", "true");
  drawResults(await api("search", search), page, "");
}

// --- the whole article ---------------------------------------------------------------

async function drawArticle(id) {
  const box = $("article");
  if (!id) {
    box.hidden = true;
    return;
  }
  const article = await api(`articles/${encodeURIComponent(id)}`);
  const meta = [article.date ? article.date.slice(0, 16).replace("T", " ") : "", article.category, article.source,
    article.author].filter(Boolean).join(" · ");
  const paragraphs = article.body.split(/\n+/).filter((p) => p.trim()).map((p) => element("p", {}, p));
  box.replaceChildren(
    element("a", { href: changed(() => {}), class: "close", title: "Close (Esc)" }, "× Close"),
    element("h1", {}, article.title),
    element("div", { class: "meta" }, meta),
    element("p", { class: "sapo" }, article.sapo),
    ...paragraphs,
    element("p", { class: "links" },
      element("a", { href: "#" + new URLSearchParams({ similar: article.id }), class: "similar" }, "Similar articles"),
      ...(article.url.startsWith("http") ? [" · ", element("a", { href: article.url, rel: "noreferrer" }, "Original")] : [])),
  );
  box.hidden = false;
  box.focus();
}

// --- wiring --------------------------------------------------------------------------

let drawn = null; // the search on screen: opening or closing an article keeps it (and the focus)

async function draw() {
  const params = state();
  $("q").value = params.get("q") || "";
  $("sort").value = params.get("sort") || "relevance";
  drawFilters();
  const search = changed(() => {});
  try {
    await Promise.all([search === drawn ? null : drawSearch(params), drawArticle(params.get("article"))]);
    drawn = search;
  } catch (error) {
    $("status").textContent = `Error: ${error.message}`;
    $("status").classList.add("error");
    return;
  }
  $("status").classList.remove("error");
}

function submit(event) {
  event.preventDefault();
  const params = state();
  for (const name of ["article", "similar", "page"]) params.delete(name);
  params.set("q", $("q").value.trim());
  params.set("sort", $("sort").value);
  go(params);
}

function turnPage(step) {
  const params = state();
  params.delete("article");
  params.set("page", String((Number(params.get("page")) || 1) + step));
  go(params);
  window.scrollTo(0, 0);
  $("hits").focus({ preventScroll: true });
}

document.addEventListener("DOMContentLoaded", () => {
  $("search").addEventListener("submit", submit);
  $("sort").addEventListener("change", () => $("search").requestSubmit());
  $("previous").addEventListener("click", () => turnPage(-1));
  $("next").addEventListener("click", () => turnPage(1));
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && document.activeElement !== $("q")) {
      event.preventDefault();
      $("q").focus();
    } else if (event.key === "Escape" && !$("article").hidden) {
      location.hash = changed(() => {});
    }
  });
  window.addEventListener("hashchange", draw);
  draw();
});

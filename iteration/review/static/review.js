// The review page: cards of a run's findings, decided with the keyboard
// or the buttons; every decision is saved at once by the server. Text
// from the run goes into the page as text, never as HTML.
"use strict";

const TOKEN = document.querySelector('meta[name="dcp-token"]').content;
// One id per open page, so the server can tell a page its finding was
// decided in another one since it last looked.
const PAGE = Math.random().toString(36).slice(2);
const FILTERS = ["issue", "split", "given_label", "suggested_action"];

let data = null; // what /api/findings gave
let shown = []; // the cards the filters let through, in order
let current = 0; // index into shown
const undo = []; // [card id, the decision before] of this page's saves
// Keys and clicks act in the order given, each after the save before it:
// a fast reviewer's keys are not reordered by the network.
let queue = Promise.resolve();

function inTurn(action) {
  queue = queue.then(action).catch((error) => say(error.message, true));
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

function decisionOf(id) {
  const decision = data.decisions[id];
  return decision && decision.action !== "clear" ? decision : null;
}

function suggestion(card) {
  return card.suggested_action === "relabel"
    ? `relabel → ${card.suggested_label}`
    : card.suggested_action;
}

function describe(decision, card) {
  if (!decision) return "undecided";
  if (decision.action === "relabel") return `relabel → ${decision.label}`;
  if (decision.action === "accept" && card && card.suggested_action) {
    return `accept: ${suggestion(card)}`;
  }
  return decision.action;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-DCP-Token": TOKEN },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.error || `${response.status} ${response.statusText}`);
  }
  return answer;
}

function say(text, error = false) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = error ? "error" : "";
}

function fillFilters() {
  const form = document.getElementById("filters");
  for (const name of FILTERS) {
    const select = form.elements[name];
    const values = [...new Set(data.cards.map((card) => card[name]))].sort();
    select.replaceChildren(
      element("option", { value: "" }, "all"),
      ...values.map((value) => element("option", { value }, value || "(none)"))
    );
  }
  form.addEventListener("change", () => {
    current = 0;
    render();
  });
}

function passes(card) {
  const form = document.getElementById("filters");
  for (const name of FILTERS) {
    const wanted = form.elements[name].value;
    if (wanted && card[name] !== wanted) return false;
  }
  const state = form.elements.state.value;
  const decided = decisionOf(card.id) !== null;
  return !(state === "decided" && !decided) && !(state === "undecided" && decided);
}

function image(src, alt) {
  return element("img", { src, alt, loading: "lazy" });
}

function strip(label, className) {
  const index = data.class_names.indexOf(className);
  const row = element("div", { class: "strip" }, element("span", {}, label));
  if (index < 0) return row;
  for (let n = 0; n < data.strip_images; n += 1) {
    const img = image(`/class-image/${index}/${n}`, `${label} ${n + 1}`);
    img.addEventListener("error", () => img.remove());
    row.append(img);
  }
  return row;
}

function cardNode(card, position) {
  const decision = decisionOf(card.id);
  const node = element("article", {
    class: "card" + (decision ? " decided" : ""),
    "data-id": card.id,
  });
  const images = element("div", { class: "images" });
  if (card.duplicate_of) {
    images.classList.add("pair");
    images.append(
      image(`/image/${card.id}`, card.path),
      image(`/image/${card.id}/duplicate_of`, card.duplicate_of)
    );
  } else {
    images.append(image(`/image/${card.id}`, card.path));
  }
  node.append(images);
  const facts = [
    ["path", card.path],
    ["split", card.split],
    ["issue", card.issue],
    ["score", card.score],
    ["given", card.given_label],
    ["suggested", suggestion(card)],
    ["confidence", card.confidence],
    ["evidence", card.detail],
  ];
  if (card.duplicate_of) facts.splice(1, 0, ["copy of", card.duplicate_of]);
  const list = element("dl");
  for (const [name, value] of facts) {
    if (value === "") continue;
    list.append(
      element("dt", {}, name),
      element("dd", name === "path" ? { class: "path" } : {}, value)
    );
  }
  node.append(list);
  if (card.issue === "label_issue") {
    node.append(strip("given", card.given_label));
    if (card.suggested_label) node.append(strip("suggested", card.suggested_label));
  }
  node.append(element("p", { class: "decision" }, describe(decision, card)));
  const actions = element("div", { class: "actions" });
  for (const [action, text] of [
    ["accept", "Accept (a)"],
    ["keep", "Keep (k)"],
    ["remove", "Remove (x)"],
  ]) {
    const button = element("button", { type: "button", "data-action": action }, text);
    button.addEventListener("click", () =>
      inTurn(() => {
        current = position;
        return decide(action);
      })
    );
    actions.append(button);
  }
  const picker = element("select", { "aria-label": "relabel to" });
  picker.append(element("option", { value: "" }, "relabel to…"));
  for (const name of data.class_names) picker.append(element("option", { value: name }, name));
  picker.addEventListener("change", () => {
    const label = picker.value;
    if (!label) return;
    inTurn(() => {
      current = position;
      return decide("relabel", label);
    });
  });
  actions.append(picker);
  node.append(actions);
  return node;
}

function render() {
  shown = data.cards.filter(passes);
  current = Math.max(0, Math.min(current, shown.length - 1));
  const cards = document.getElementById("cards");
  cards.replaceChildren(...shown.map((card, position) => cardNode(card, position)));
  count();
  focus(false);
}

function count() {
  const decided = data.cards.filter((card) => decisionOf(card.id)).length;
  document.getElementById("counts").textContent =
    `${decided} of ${data.cards.length} findings decided, ` +
    `${data.cards.length - decided} left; ${shown.length} shown`;
}

// One card's decision shown anew; the grid is drawn again only when the
// state filter may now hide it.
function redraw(card) {
  if (document.getElementById("filters").elements.state.value) {
    render();
    return;
  }
  const node = document.querySelector(`.card[data-id="${card.id}"]`);
  const decision = decisionOf(card.id);
  node.classList.toggle("decided", decision !== null);
  node.querySelector(".decision").textContent = describe(decision, card);
  count();
}

function focus(scroll = true) {
  for (const node of document.querySelectorAll(".card.current")) {
    node.classList.remove("current");
  }
  const node = document.querySelectorAll(".card")[current];
  if (!node) return;
  node.classList.add("current");
  if (scroll) node.scrollIntoView({ block: "nearest" });
}

async function decide(action, label = "", recordUndo = true) {
  const card = shown[current];
  if (!card) return;
  const before = data.decisions[card.id] || null;
  try {
    const answer = await post("/api/decisions", {
      id: card.id,
      action,
      label,
      seen: before ? before.revision : 0,
      page: PAGE,
    });
    data.decisions[card.id] = answer.decision;
    if (recordUndo) undo.push([card.id, before]);
    say(
      answer.changed_elsewhere
        ? `${card.path}: it was decided in another page since this one loaded; your decision (${describe(answer.decision, card)}) is the one kept.`
        : ""
    );
  } catch (error) {
    say(`Not saved: ${error.message}`, true);
    return;
  }
  const position = current;
  redraw(card);
  // On to the next card, unless the filters took this one out of view
  // and the next one has come to its place.
  const stayed = shown[position] && shown[position].id === card.id;
  if (recordUndo && action !== "clear" && stayed) {
    current = Math.min(position + 1, shown.length - 1);
  } else {
    current = Math.max(0, Math.min(position, shown.length - 1));
  }
  focus();
}

async function undoLast() {
  const last = undo.pop();
  if (!last) return;
  const [id, before] = last;
  const position = shown.findIndex((card) => card.id === id);
  if (position < 0) return;
  current = position;
  if (before && before.action !== "clear") {
    await decide(before.action, before.label, false);
  } else {
    await decide("clear", "", false);
  }
}

async function applyDecisions() {
  say("Applying the decisions as dcp fix would…");
  try {
    const answer = await post("/api/apply", {});
    say(
      answer.summary +
        "\nMeasure it with make run, or dcp run --data with the same folder."
    );
  } catch (error) {
    say(`Not applied: ${error.message}`, true);
  }
}

// The key of each class: its own name where every class is named by one
// digit (the digits 0 to 9), else its place, 1 to 9 then 0.
function classKeys() {
  const names = data.class_names;
  if (names.every((name) => /^[0-9]$/.test(name))) {
    return new Map(names.map((name) => [name, name]));
  }
  return new Map(names.slice(0, 10).map((name, index) => [String((index + 1) % 10), name]));
}

// r: type a class's name, Enter relabels the current finding to it.
function askLabel() {
  const form = document.getElementById("relabel");
  form.hidden = false;
  form.elements.label.value = "";
  form.elements.label.focus();
}

function onLabelTyped(event) {
  event.preventDefault();
  const form = document.getElementById("relabel");
  const label = form.elements.label.value.trim();
  if (!data.class_names.includes(label)) {
    say(`No class is named "${label}"; the classes: ${data.class_names.join(", ")}.`, true);
    return;
  }
  form.hidden = true;
  inTurn(() => decide("relabel", label));
}

function onKey(event) {
  const typing = ["SELECT", "INPUT"].includes(event.target.tagName);
  if (typing || event.ctrlKey || event.metaKey || event.altKey) {
    if (event.key === "Escape") document.getElementById("relabel").hidden = true;
    return;
  }
  const key = event.key;
  let action = null;
  if (key === "a" || key === "Enter") action = () => decide("accept");
  else if (key === "k") action = () => decide("keep");
  else if (key === "x") action = () => decide("remove");
  else if (key === "u") action = undoLast;
  else if (key === "r") action = askLabel;
  else if (key === "j" || key === "ArrowRight") {
    action = () => {
      current = Math.min(current + 1, shown.length - 1);
      focus();
    };
  } else if (key === "h" || key === "ArrowLeft") {
    action = () => {
      current = Math.max(current - 1, 0);
      focus();
    };
  } else if (classKeys().has(key)) {
    const label = classKeys().get(key);
    action = () => decide("relabel", label);
  }
  if (action === null) return;
  event.preventDefault();
  inTurn(action);
}

async function start() {
  const response = await fetch("/api/findings");
  data = await response.json();
  const keys = document.getElementById("class-keys");
  for (const [key, name] of classKeys()) {
    keys.append(element("li", {}, `${key}: relabel to ${name}`));
  }
  const names = document.getElementById("class-names");
  for (const name of data.class_names) names.append(element("option", { value: name }));
  document.getElementById("relabel").addEventListener("submit", onLabelTyped);
  fillFilters();
  // Resume at the first finding not decided yet.
  const first = data.cards.findIndex((card) => !decisionOf(card.id));
  current = first < 0 ? 0 : first;
  render();
  focus();
  document.addEventListener("keydown", onKey);
  document
    .getElementById("apply")
    .addEventListener("click", () => inTurn(applyDecisions));
}

start();

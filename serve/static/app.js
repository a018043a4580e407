// 催收短信看一看: posts the text to /v1/analyze and shows stage, flags with highlighted
// evidence, amounts and deadlines. Label names and explanations come from /v1/labels.
// A borrower checks one message, so the page asks for the service's review model (the
// most accurate one, named by /v1/models) rather than its high-volume default.
"use strict";

const $ = (id) => document.getElementById(id);
let LABELS = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function loadLabels() {
  if (LABELS) return LABELS;
  const r = await fetch("/v1/labels");
  if (!r.ok) throw new Error("无法读取标签说明");
  const data = await r.json();
  LABELS = {
    stages: Object.fromEntries(data.stages.map((s) => [s.name, s])),
    flags: Object.fromEntries(data.flags.map((f) => [f.name, f])),
    roles: Object.fromEntries(data.amount_roles.map((a) => [a.name, a.zh])),
    flagOrder: data.flags.map((f) => f.name),
  };
  return LABELS;
}

let REVIEW_MODEL = undefined;

async function reviewModel() {
  if (REVIEW_MODEL !== undefined) return REVIEW_MODEL;
  try {
    const r = await fetch("/v1/models");
    REVIEW_MODEL = r.ok ? (await r.json()).review.name : null;
  } catch (err) {
    REVIEW_MODEL = null; // an older service without /v1/models: its default model answers
  }
  return REVIEW_MODEL;
}

function apiHeaders() {
  const headers = { "content-type": "application/json" };
  const key = sessionStorage.getItem("cuishou-api-key");
  if (key) headers["X-API-Key"] = key;
  return headers;
}

async function analyze(text, referenceTime) {
  const body = { text };
  if (referenceTime) body.reference_time = referenceTime;
  const model = await reviewModel();
  const url = model ? "/v1/analyze?model=" + encodeURIComponent(model) : "/v1/analyze";
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await fetch(url, { method: "POST", headers: apiHeaders(), body: JSON.stringify(body) });
    if (r.status === 401 && attempt === 0) {
      const key = window.prompt("此服务需要 API 密钥：");
      if (!key) throw new Error("需要 API 密钥");
      sessionStorage.setItem("cuishou-api-key", key);
      continue;
    }
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.reason || data.detail || `出错了（${r.status}）`);
    return data;
  }
  throw new Error("API 密钥不正确");
}

// Python offsets count code points; JS strings count UTF-16 units. Work on code points.
function highlighted(text, flags) {
  const chars = Array.from(text);
  const marks = Array.from({ length: chars.length }, () => new Set());
  for (const flag of flags) {
    for (const span of flag.evidence) {
      for (let i = Math.max(0, span.start); i < Math.min(chars.length, span.end); i++) marks[i].add(flag.label);
    }
  }
  const root = el("div", {});
  let i = 0;
  while (i < chars.length) {
    const key = [...marks[i]].sort().join(" ");
    let j = i + 1;
    while (j < chars.length && [...marks[j]].sort().join(" ") === key) j++;
    const piece = chars.slice(i, j).join("");
    if (key) {
      const names = key.split(" ");
      const title = names.map((n) => (LABELS.flags[n] ? LABELS.flags[n].zh : n)).join("、");
      root.append(el("mark", { class: "ev flag-" + names[0], "data-flags": key, title }, piece));
    } else {
      root.append(document.createTextNode(piece));
    }
    i = j;
  }
  return root;
}

function renderStage(result) {
  const stage = LABELS.stages[result.stage.label];
  const box = $("stage");
  box.replaceChildren(
    el("h2", {}, "到了哪一步"),
    el("p", { class: "stage-name", "data-stage": result.stage.label }, stage ? stage.zh : result.stage.label),
    el("p", {}, stage ? stage.plain : ""),
  );
  if (result.overdue_days !== null && result.overdue_days !== undefined) {
    box.append(el("p", {}, `短信称已逾期 ${result.overdue_days} 天。`));
  }
}

function renderFlags(result) {
  const box = $("flags");
  box.replaceChildren(el("h2", {}, "发现的问题"));
  if (!result.flags.length) {
    box.append(el("p", { class: "ok" }, "没有发现违规催收或诈骗的明显迹象。仍请通过官方渠道核实。"));
    return;
  }
  const order = LABELS.flagOrder;
  const flags = [...result.flags].sort((a, b) => order.indexOf(a.label) - order.indexOf(b.label));
  const list = el("ul", { class: "flag-list" });
  for (const flag of flags) {
    const info = LABELS.flags[flag.label] || { zh: flag.label, explanation: "", basis: "" };
    const quotes = flag.evidence.map((s) => `“${s.text}”`).join("、");
    list.append(el("li", { class: "flag flag-" + flag.label, "data-flag": flag.label },
      el("h3", {}, el("span", { class: "swatch flag-" + flag.label }), info.zh,
        el("small", {}, ` 可能性 ${Math.round(flag.score * 100)}%`)),
      quotes ? el("p", { class: "quote" }, "原文：", quotes) : null,
      el("p", {}, info.explanation),
      el("p", { class: "basis" }, "依据：", info.basis),
    ));
  }
  box.append(list);
  if (result.flags.some((f) => f.label === "scam_risk")) {
    box.prepend(el("p", { class: "warn" }, "⚠ 这条短信有诈骗迹象：不要转账，先打官方客服电话核实。"));
  }
  if (result.flags.some((f) => f.label === "violent_threat")) {
    box.prepend(el("p", { class: "warn" }, "⚠ 如果您或家人的人身安全受到威胁，请立即拨打 110。"));
  }
}

function renderMoney(result) {
  const box = $("money");
  box.replaceChildren(el("h2", {}, "金额与期限"));
  if (!result.amounts.length && !result.deadlines.length) {
    box.append(el("p", {}, "短信中没有提到具体金额或期限。"));
    return;
  }
  const list = el("ul", {});
  for (const a of result.amounts) {
    const value = a.value.toLocaleString("zh-CN", { minimumFractionDigits: 0, maximumFractionDigits: 2 });
    list.append(el("li", { class: "amount" }, `${LABELS.roles[a.role] || a.role}：${value} 元（原文“${a.text}”）`));
  }
  for (const d of result.deadlines) {
    const when = d.value.replace("T", " ");
    list.append(el("li", { class: "deadline" }, `期限：${when}（原文“${d.text}”）`));
  }
  box.append(list);
}

async function onSubmit(event) {
  event.preventDefault();
  const text = $("sms").value;
  if (!text.trim()) return;
  const arrived = $("arrived").value;
  const referenceTime = arrived ? (arrived.length === 16 ? arrived + ":00" : arrived) : null;
  $("error").hidden = true;
  $("go").disabled = true;
  $("go").textContent = "分析中…";
  try {
    await loadLabels();
    const data = await analyze(text, referenceTime);
    const result = data.result;
    renderStage(result);
    $("text").replaceChildren(highlighted(text, result.flags));
    $("text-hint").textContent = result.flags.length ? "有问题的句子已标出，颜色对应下面的问题。" : "";
    renderFlags(result);
    renderMoney(result);
    $("result").hidden = false;
    $("result").dataset.model = `${data.model.name} ${data.model.version}`;
    $("result").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (err) {
    $("error").textContent = err.message;
    $("error").hidden = false;
  } finally {
    $("go").disabled = false;
    $("go").textContent = "分析";
  }
}

$("form").addEventListener("submit", onSubmit);
loadLabels().catch(() => {});

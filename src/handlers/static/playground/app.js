// Persona Router playground: plain DOM code, no framework, no inline handlers (the page's CSP
// allows scripts from its own origin only). Every text from the API is set with textContent.
"use strict";

(function () {
  const PARTS = ["tone", "pace", "intent"];
  const CONTRIBUTIONS = ["tone", "pace", "intent", "continuity"];

  const TEXT = {
    en: {
      skip: "Skip to content",
      title: "Persona Router Playground",
      langHint: "Switch the page language to Korean",
      toggle: "한국어",
      apiKey: "API key",
      apiKeyLabel: "x-api-key (staging and prod; kept in this tab only)",
      tryTitle: "Send a message",
      tryHint: "The router infers a resonance key from the message, then scores every persona.",
      messageLabel: "Message",
      detectRoute: "Detect and route",
      builderTitle: "Key builder",
      tone: "Tone",
      pace: "Pace",
      intent: "Intent",
      continuity: "Continuity",
      keyText: "Resonance key (free text: typos, aliases and Korean words are fine)",
      routeKey: "Route this key",
      chatTitle: "Chat",
      session: "Session",
      newSession: "New session",
      chatLabel: "Your message",
      chatKey: "Resonance key (optional: inferred from the message when empty)",
      send: "Send",
      catalogTitle: "Personas",
      docs: "API docs",
      inferred: "Inferred key",
      part: "Part",
      value: "Value",
      confidence: "Confidence",
      cues: "Cues that fired",
      noCues: "none",
      winner: "Winner",
      runnerUp: "Runner-up",
      reasoning: "Why",
      scores: "Scores by persona (bar = score, split by contribution)",
      corrections: "Corrections",
      noCorrections: "No corrections: the key was already canonical.",
      normalized: "Normalized key",
      invalid: "This key is not valid: POST /v1/route would answer 422 INVALID_RESONANCE_KEY.",
      suggestions: "Suggestions",
      missing: "(missing)",
      you: "You",
      prompt: "Built prompt (backend none: no model call)",
      system: "System",
      user: "User",
      loading: "Working…",
      failed: "Request failed",
      needKey: "The API needs a key here: paste it under “API key”.",
      bestFor: "Affinities",
      traits: "Traits",
      catalogVersion: "catalog version",
    },
    ko: {
      skip: "본문으로 건너뛰기",
      title: "Persona Router 플레이그라운드",
      langHint: "페이지 언어를 영어로 바꾸기",
      toggle: "English",
      apiKey: "API 키",
      apiKeyLabel: "x-api-key (staging, prod에서 필요; 이 탭에만 보관)",
      tryTitle: "메시지 보내기",
      tryHint: "메시지에서 공명 키를 추론한 뒤 모든 페르소나의 점수를 매깁니다.",
      messageLabel: "메시지",
      detectRoute: "추론하고 라우팅",
      builderTitle: "키 만들기",
      tone: "톤",
      pace: "속도",
      intent: "의도",
      continuity: "연속성",
      keyText: "공명 키 (자유 입력: 오타, 별칭, 한국어 단어 모두 가능)",
      routeKey: "이 키로 라우팅",
      chatTitle: "채팅",
      session: "세션",
      newSession: "새 세션",
      chatLabel: "메시지",
      chatKey: "공명 키 (선택: 비우면 메시지에서 추론)",
      send: "보내기",
      catalogTitle: "페르소나",
      docs: "API 문서",
      inferred: "추론한 키",
      part: "부분",
      value: "값",
      confidence: "신뢰도",
      cues: "감지된 단서",
      noCues: "없음",
      winner: "선택",
      runnerUp: "차점",
      reasoning: "이유",
      scores: "페르소나별 점수 (막대 = 점수, 기여도별로 나눔)",
      corrections: "교정",
      noCorrections: "교정 없음: 이미 정식 키입니다.",
      normalized: "정규화한 키",
      invalid: "유효하지 않은 키입니다: POST /v1/route는 422 INVALID_RESONANCE_KEY로 답합니다.",
      suggestions: "제안",
      missing: "(없음)",
      you: "나",
      prompt: "만든 프롬프트 (backend none: 모델 호출 없음)",
      system: "시스템",
      user: "사용자",
      loading: "처리 중…",
      failed: "요청 실패",
      needKey: "이 API는 키가 필요합니다: “API 키”에 붙여 넣으세요.",
      bestFor: "친화도",
      traits: "특성",
      catalogVersion: "카탈로그 버전",
    },
  };

  const state = {
    lang: "ko",
    vocabulary: null,
    detect: null,
    route: null,
    keyResult: null,
    turns: [],
    personas: [],
    details: {},
    catalogVersion: null,
  };

  const $ = (id) => document.getElementById(id);
  const t = (name) => TEXT[state.lang][name] || TEXT.en[name] || name;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === "string" ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  function fmt(value, digits) {
    return typeof value === "number" ? value.toFixed(digits === undefined ? 3 : digits) : "–";
  }

  // The API lives where the page was served from: "" locally, "/dev" under a stage prefix.
  const apiBase = window.location.pathname.replace(/\/playground\/?$/, "");

  function storage() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const key = $("api-key").value.trim();
    if (key) headers["x-api-key"] = key;
    const response = await fetch(apiBase + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    return { status: response.status, data };
  }

  function showStatus(message) {
    $("status").textContent = message || "";
  }

  function problem(result) {
    if (result.status === 403) return t("needKey");
    const error = result.data && result.data.error;
    return `${t("failed")}: ${result.status}${error ? ` ${error.code} – ${error.message}` : ""}`;
  }

  // ---- language ---------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.getAttribute("data-i18n"));
    }
    $("lang-toggle").textContent = t("toggle");
    $("lang-toggle").setAttribute("lang", state.lang === "ko" ? "en" : "ko");
    document.title = t("title");
    fillSelects();
    renderDetect();
    renderRoute();
    renderKeyResult();
    renderTranscript();
    renderCatalog();
  }

  // ---- message -> detect -> route ---------------------------------------------------------

  function renderDetect() {
    const box = $("detect-result");
    const data = state.detect;
    box.replaceChildren();
    box.hidden = !data;
    if (!data) return;
    const rows = PARTS.map((part) => {
      const guess = (data.parts || {})[part] || {};
      return el("tr", { "data-part": part }, [
        el("th", { scope: "row", text: t(part) }),
        el("td", { className: "key", text: guess.value || "–" }),
        el("td", { className: "num", text: fmt(guess.confidence, 2) }),
      ]);
    });
    const cues = data.cues && data.cues.length ? data.cues : null;
    box.append(
      el("h3", { text: t("inferred") }),
      el("p", {}, [el("span", { className: "key", id: "inferred-key", text: data.resonance_key })]),
      el("table", {}, [
        el("thead", {}, [
          el("tr", {}, [
            el("th", { scope: "col", text: t("part") }),
            el("th", { scope: "col", text: t("value") }),
            el("th", { scope: "col", text: t("confidence") }),
          ]),
        ]),
        el("tbody", {}, rows),
      ]),
      el("p", {}, [
        `${t("cues")}: `,
        el("span", { id: "cues", text: cues ? cues.join(", ") : t("noCues") }),
      ])
    );
  }

  function legend() {
    return el(
      "ul",
      { className: "legend", "aria-hidden": "true" },
      CONTRIBUTIONS.map((name) =>
        el("li", {}, [el("span", { className: `swatch swatch-${name}` }), t(name)])
      )
    );
  }

  function scoreBars(result) {
    const scores = result.scores || {};
    const breakdown = result.breakdown || {};
    const names = Object.keys(scores).sort((a, b) => scores[b] - scores[a] || a.localeCompare(b));
    const list = el("ul", { className: "bars" });
    for (const name of names) {
      const score = Math.max(0, Math.min(1, Number(scores[name]) || 0));
      const parts = breakdown[name] || {};
      const total = CONTRIBUTIONS.reduce((sum, part) => sum + Math.max(0, Number(parts[part]) || 0), 0);
      const fill = el("div", { className: "bar-fill" });
      fill.style.width = `${(score * 100).toFixed(2)}%`;
      for (const part of CONTRIBUTIONS) {
        const value = Math.max(0, Number(parts[part]) || 0);
        if (!value || !total) continue;
        const seg = el("div", { className: `seg seg-${part}`, "data-part": part, title: `${t(part)} ${fmt(value)}` });
        seg.style.width = `${((value / total) * 100).toFixed(2)}%`;
        fill.append(seg);
      }
      const spoken = CONTRIBUTIONS.map((part) => `${t(part)} ${fmt(Number(parts[part]) || 0)}`).join(", ");
      list.append(
        el("li", { className: "bar-row", "data-persona": name, "data-score": String(scores[name]) }, [
          el("span", { text: name }),
          el("div", { className: "bar-track", role: "img", "aria-label": `${name} ${fmt(score)}: ${spoken}` }, [fill]),
          el("span", { className: "num", text: fmt(score) }),
        ])
      );
    }
    return list;
  }

  function routeSummary(result) {
    return [
      el("p", { className: "winner" }, [
        `${t("winner")}: `,
        el("strong", { className: "persona-winner", text: result.persona }),
        ` · ${t("runnerUp")}: `,
        el("span", { className: "persona-runner-up", text: result.secondary_persona || "–" }),
        ` · ${t("confidence")}: `,
        el("span", { className: "route-confidence", text: fmt(result.confidence) }),
      ]),
      el("p", {}, [`${t("reasoning")}: `, el("span", { className: "reasoning", text: result.reasoning || "" })]),
      el("h3", { text: t("scores") }),
      legend(),
      scoreBars(result),
    ];
  }

  function renderRoute() {
    const box = $("route-result");
    box.replaceChildren();
    box.hidden = !state.route;
    if (state.route) box.append(...routeSummary(state.route));
  }

  async function onMessage(event) {
    event.preventDefault();
    const message = $("message").value.trim();
    if (!message) return;
    showStatus(t("loading"));
    try {
      const detected = await api("POST", "/v1/resonance/detect", { message });
      if (detected.status !== 200) return showStatus(problem(detected));
      state.detect = detected.data;
      renderDetect();
      const routed = await api("POST", "/v1/route", { resonance_key: detected.data.resonance_key });
      if (routed.status !== 200) return showStatus(problem(routed));
      state.route = routed.data;
      renderRoute();
      showStatus("");
    } catch (error) {
      showStatus(`${t("failed")}: ${error.message}`);
    }
  }

  // ---- key builder -----------------------------------------------------------------------

  function vocabularyOf(part) {
    const vocabulary = state.vocabulary;
    return vocabulary ? vocabulary[`${part}s`] || [] : [];
  }

  function fillSelects() {
    for (const part of PARTS) {
      const select = $(part);
      const current = select.value;
      select.replaceChildren(
        ...vocabularyOf(part).map((entry) =>
          el("option", { value: entry.value, title: (entry.meaning || {})[state.lang] || "", text: entry.value })
        )
      );
      if (current) select.value = current;
    }
    showMeanings();
  }

  function showMeanings() {
    const lines = PARTS.map((part) => {
      const entry = vocabularyOf(part).find((item) => item.value === $(part).value);
      return entry ? `${entry.value}: ${(entry.meaning || {})[state.lang] || ""}` : "";
    }).filter(Boolean);
    $("meanings").textContent = lines.join(" · ");
  }

  function onSelect() {
    $("key-text").value = PARTS.map((part) => $(part).value).join("-");
    showMeanings();
  }

  function replacePart(text, part, value) {
    const words = text.trim().split(/[-\s]+/).filter(Boolean);
    while (words.length < 3) words.push("");
    if (part === "tone") words[0] = value;
    else if (part === "pace") words[1] = value;
    else words.splice(2, words.length - 2, value);
    return words.join("-");
  }

  function renderKeyResult() {
    const box = $("key-result");
    const result = state.keyResult;
    box.replaceChildren();
    box.hidden = !result;
    if (!result) return;
    if (result.problems) {
      const items = result.problems.map((item) =>
        el("li", { className: "key-problem", "data-part": item.part || "" }, [
          el("strong", { text: `${t(item.part) || item.part}: ` }),
          el("span", { className: "key", text: item.input === null || item.input === undefined ? t("missing") : item.input }),
          item.reason ? ` – ${item.reason}` : "",
          el("div", {}, [
            `${t("suggestions")}: `,
            ...(item.suggestions || []).map((suggestion) => {
              const button = el("button", { type: "button", className: "link suggestion", text: suggestion });
              button.addEventListener("click", () => {
                $("key-text").value = replacePart($("key-text").value, item.part, suggestion);
                $("key-text").focus();
              });
              return button;
            }),
          ]),
        ])
      );
      box.append(el("p", { className: "error", text: t("invalid") }), el("ul", { id: "key-problems" }, items));
      return;
    }
    const route = result.route;
    const corrections = (route.resonance && route.resonance.corrections) || [];
    box.append(
      el("p", {}, [`${t("normalized")}: `, el("span", { className: "key", text: route.resonance.normalized_key })]),
      el("h3", { text: t("corrections") }),
      corrections.length
        ? el(
            "ul",
            { id: "corrections" },
            corrections.map((item) =>
              el("li", { className: "correction", "data-rule": item.rule }, [
                `${t(item.part) || item.part}: `,
                el("span", { className: "key", text: item.input }),
                " → ",
                el("span", { className: "key", text: item.resolved }),
                ` (${item.rule})`,
              ])
            )
          )
        : el("p", { text: t("noCorrections") }),
      ...routeSummary(route)
    );
  }

  async function onKey(event) {
    event.preventDefault();
    const key = $("key-text").value;
    showStatus(t("loading"));
    try {
      // Validate first: an invalid key shows the suggestions POST /v1/route would send with its
      // 422, without a failed request; a valid one is then routed.
      const checked = await api("POST", "/v1/resonance/validate", { resonance_key: key });
      if (checked.status !== 200) return showStatus(problem(checked));
      if (!checked.data.valid) {
        state.keyResult = { problems: checked.data.errors || [] };
      } else {
        const routed = await api("POST", "/v1/route", { resonance_key: key });
        if (routed.status === 422 && routed.data && routed.data.error) {
          state.keyResult = { problems: routed.data.error.details || [] };
        } else if (routed.status !== 200) {
          return showStatus(problem(routed));
        } else {
          state.keyResult = { route: routed.data };
        }
      }
      renderKeyResult();
      showStatus("");
    } catch (error) {
      showStatus(`${t("failed")}: ${error.message}`);
    }
  }

  // ---- chat -------------------------------------------------------------------------------

  function newSessionId() {
    const bytes = new Uint8Array(6);
    window.crypto.getRandomValues(bytes);
    return `pg-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }

  function startSession() {
    state.session = newSessionId();
    state.turns = [];
    $("session-id").textContent = state.session;
    renderTranscript();
  }

  function renderTranscript() {
    const list = $("transcript");
    list.replaceChildren();
    for (const turn of state.turns) {
      list.append(el("li", { className: "turn turn-user" }, [el("div", { className: "tag", text: t("you") }), el("div", { text: turn.message })]));
      if (turn.error) {
        list.append(el("li", { className: "turn error", text: turn.error }));
        continue;
      }
      const reply = turn.reply;
      const key = (reply.resonance && reply.resonance.normalized_key) || "";
      const children = [
        el("div", { className: "tag" }, [
          el("strong", { className: "turn-persona", text: reply.persona }),
          " · ",
          el("span", { className: "key turn-key", text: key }),
          ` · ${t("confidence")} ${fmt(reply.confidence)}`,
        ]),
      ];
      if (reply.content) {
        children.push(el("div", { className: "turn-content", text: reply.content }));
      } else if (reply.prompt) {
        children.push(
          el("details", { className: "turn-prompt" }, [
            el("summary", { text: t("prompt") }),
            el("h3", { text: t("system") }),
            el("pre", { text: reply.prompt.system }),
            el("h3", { text: t("user") }),
            el("pre", { text: reply.prompt.user }),
          ])
        );
      }
      list.append(el("li", { className: "turn turn-reply", "data-persona": reply.persona }, children));
    }
  }

  async function onChat(event) {
    event.preventDefault();
    const message = $("chat-message").value.trim();
    if (!message) return;
    const body = { message, session_id: state.session, locale: state.lang };
    const key = $("chat-key").value.trim();
    if (key) body.resonance_key = key;
    showStatus(t("loading"));
    try {
      const answered = await api("POST", "/v1/chat", body);
      if (answered.status === 200) {
        state.turns.push({ message, reply: answered.data });
        $("chat-message").value = "";
        showStatus("");
      } else {
        state.turns.push({ message, error: problem(answered) });
        showStatus(problem(answered));
      }
      renderTranscript();
    } catch (error) {
      showStatus(`${t("failed")}: ${error.message}`);
    }
  }

  // ---- catalog ------------------------------------------------------------------------------

  function affinityChart(part, values) {
    return el(
      "ul",
      { className: "aff", "aria-label": `${t(part)}` },
      vocabularyOf(part).map((entry) => {
        // A value missing from a persona's affinity counts 0.5 (routing does the same).
        const value = values && typeof values[entry.value] === "number" ? values[entry.value] : 0.5;
        const fill = el("div", { className: "fill" });
        fill.style.width = `${(value * 100).toFixed(1)}%`;
        return el("li", {}, [
          el("span", { text: entry.value }),
          el("div", { className: "bar-track", role: "img", "aria-label": `${entry.value} ${fmt(value, 1)}` }, [fill]),
          el("span", { className: "num", text: fmt(value, 1) }),
        ]);
      })
    );
  }

  function renderCatalog() {
    const box = $("catalog-cards");
    box.replaceChildren();
    for (const persona of state.personas) {
      const detail = state.details[persona.name];
      const affinity = (detail && detail.affinity) || {};
      const charts = [];
      if (detail) {
        for (const part of PARTS) {
          charts.push(el("h4", { text: `${t(part)}` }), affinityChart(part, affinity[part]));
        }
      }
      box.append(
        el("article", { className: "card", "data-persona": persona.name }, [
          el("h3", { text: `${persona.display_name || persona.name} (${persona.name})` }),
          el("p", { text: persona.description || "" }),
          el("p", { className: "tag", text: `${t("traits")}: ${(persona.traits || []).join(", ")}` }),
          el("details", {}, [el("summary", { text: t("bestFor") }), ...charts]),
        ])
      );
    }
  }

  async function loadCatalog() {
    const listed = await api("GET", "/v1/personas");
    if (listed.status !== 200) return showStatus(problem(listed));
    state.personas = listed.data.personas || [];
    renderCatalog();
    await Promise.all(
      state.personas.map(async (persona) => {
        const one = await api("GET", `/v1/personas/${encodeURIComponent(persona.name)}`);
        if (one.status === 200) state.details[persona.name] = one.data;
      })
    );
    renderCatalog();
  }

  async function loadVocabulary() {
    const answered = await api("GET", "/v1/resonance/vocabulary");
    if (answered.status !== 200) return showStatus(problem(answered));
    state.vocabulary = answered.data;
    fillSelects();
    if (!$("key-text").value) onSelect();
  }

  // ---- start ---------------------------------------------------------------------------------

  function start() {
    const store = storage();
    const saved = store && store.getItem("persona-router.lang");
    state.lang = saved === "ko" || saved === "en" ? saved : document.documentElement.lang === "en" ? "en" : "ko";
    $("api-key").value = (store && store.getItem("persona-router.api-key")) || "";
    $("api-key").addEventListener("change", () => {
      const value = $("api-key").value.trim();
      if (!store) return;
      if (value) store.setItem("persona-router.api-key", value);
      else store.removeItem("persona-router.api-key");
    });
    $("lang-toggle").addEventListener("click", () => {
      state.lang = state.lang === "ko" ? "en" : "ko";
      if (store) store.setItem("persona-router.lang", state.lang);
      applyLanguage();
    });
    $("message-form").addEventListener("submit", onMessage);
    $("key-form").addEventListener("submit", onKey);
    $("chat-form").addEventListener("submit", onChat);
    $("new-session").addEventListener("click", startSession);
    for (const part of PARTS) $(part).addEventListener("change", onSelect);
    startSession();
    applyLanguage();
    document.body.setAttribute("data-ready", "loading");
    Promise.all([loadVocabulary(), loadCatalog()])
      .catch((error) => showStatus(`${t("failed")}: ${error.message}`))
      .finally(() => document.body.setAttribute("data-ready", "true"));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

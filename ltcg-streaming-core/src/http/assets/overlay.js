// The overlay page: follows /stream/overlay/events (server-sent events, pushed by the server
// on every change) and renders with textContent only, so no data can inject markup.
//
// Query parameters: sessionId and token (or preview=1 for sample data, with theme=light),
// scene=<scene> to force a scene, audio=0 for a silent page.
(() => {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const preview = params.get("preview") === "1" || params.get("preview") === "true";
  const SCENES = ["starting-soon", "live-game", "match-over", "lobby-chat", "brb", "ending"];
  const LABELS = {
    "starting-soon": "Starting Soon", "live-game": "Live Game", "match-over": "Match Over",
    "lobby-chat": "Lobby Chat", "brb": "Be Right Back", "ending": "Stream Ending",
  };
  const forcedScene = SCENES.includes(params.get("scene")) ? params.get("scene") : null;
  const silent = params.get("audio") === "0";
  const PIP_SIZES = { small: 220, medium: 280, large: 340 };
  const $ = (id) => document.getElementById(id);
  let announced = false;
  let shownScene = null;

  // Lay the 1920x1080 design out at the viewport's size.
  function fit() {
    const scale = Math.min(window.innerWidth / 1920, window.innerHeight / 1080);
    $("root").style.transform = "scale(" + scale + ")";
    document.body.dataset.scale = String(scale);
  }
  window.addEventListener("resize", fit);
  fit();

  function setText(id, text) {
    $(id).textContent = text == null ? "" : String(text);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  }

  // Keeps only the children of `container` that fit inside `frame` (nothing is drawn cut
  // in half; 24px is the frame's padding).
  function keepFitting(container, frame, horizontal) {
    const outer = frame.getBoundingClientRect();
    const inset = 24 * (outer.width / frame.offsetWidth || 1);
    const box = { right: outer.right - inset, bottom: outer.bottom - inset };
    for (const child of Array.from(container.children)) {
      const r = child.getBoundingClientRect();
      const out = horizontal ? r.right > box.right + 0.5 : r.bottom > box.bottom + 0.5;
      if (out) child.remove();
    }
  }

  // Audio: a near-silent 20 Hz tone keeps an audio track in the stream (some platforms
  // require one); the optional voice track plays on top.
  let tone = null;
  function startTone() {
    if (silent || tone) return;
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 20;
      gain.gain.value = 0.00001;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      tone = ctx;
      document.body.dataset.tone = "20";
      const resume = () => { if (ctx.state !== "running") ctx.resume().catch(() => {}); };
      resume();
      setInterval(resume, 2000);
    } catch (e) {
      document.body.dataset.tone = "unavailable";
    }
  }

  function voice(cfg) {
    let audio = $("voice");
    if (silent || !cfg.voiceTrackUrl) {
      if (audio) audio.remove();
      return;
    }
    if (!audio) {
      audio = document.createElement("audio");
      audio.id = "voice";
      audio.crossOrigin = "anonymous";
      audio.autoplay = true;
      document.body.append(audio);
    }
    if (audio.getAttribute("src") !== cfg.voiceTrackUrl) audio.src = cfg.voiceTrackUrl;
    const volume = typeof cfg.voiceVolume === "number" ? cfg.voiceVolume : 0.9;
    audio.volume = Math.min(1, Math.max(0, volume));
    audio.loop = cfg.voiceLoop === true;
    audio.play().catch(() => {});
  }

  function pill(id, text) {
    $(id).hidden = text == null || text === "";
    setText(id, text);
  }

  function renderPlayer(target, player, active) {
    target.classList.toggle("active", active);
    const head = el("div", "player-head");
    head.append(
      el("span", "player-name", player.name),
      el("span", "player-lp", "LP " + player.lifePoints),
      el("span", "player-piles",
        "Hand " + player.handCount + " · Deck " + player.deckCount + " · GY " + player.graveyardCount),
    );
    const zones = [];
    for (const zone of ["monster", "spell-trap"]) {
      const row = el("div", "zone " + zone);
      const cards = (player.field || []).filter((c) => (c.zone || "monster") === zone);
      for (const card of cards) {
        const node = el("div", "field-card " + (card.position || "attack"));
        if (card.faceDown) {
          node.classList.add("face-down");
          node.setAttribute("aria-label", "face-down card");
        } else {
          node.append(el("span", "card-name", card.name));
          if (card.attack != null || card.defense != null) {
            node.append(el("span", "card-stats",
              (card.attack != null ? card.attack : "-") + " / " + (card.defense != null ? card.defense : "-")));
          }
        }
        row.append(node);
      }
      for (let i = cards.length; i < 5; i++) row.append(el("div", "slot"));
      zones.push(row);
    }
    target.replaceChildren(head, ...zones);
  }

  function renderBoard(g) {
    renderPlayer($("opponent"), g.opponent, g.activePlayer === "opponent");
    renderPlayer($("host"), g.host, g.activePlayer === "host");
    setText("board-turn", "Turn " + g.turnNumber);
    setText("board-phase", "Phase: " + g.phase);
    setText("board-active", (g.activePlayer === "host" ? g.host.name : g.opponent.name) + " to play");
  }

  function renderWaiting(s, scene) {
    const result = $("waiting-result");
    result.hidden = true;
    let title = LABELS[scene];
    let detail = s.streamTitle;
    if (scene === "match-over") {
      const last = s.lastMatch;
      result.hidden = !last;
      if (last) {
        setText("waiting-result", String(last.result).toUpperCase());
        detail = last.summary;
      }
    } else if (scene === "lobby-chat") {
      detail = s.currentLobbyId ? "Lobby " + s.currentLobbyId + " · " + s.streamTitle : s.streamTitle;
    } else if (scene === "live-game") {
      title = "Waiting for the game";
    } else if (scene === "ending") {
      detail = "Thanks for watching " + s.entityName;
    }
    setText("waiting-title", title);
    setText("waiting-detail", detail);
  }

  function render(s) {
    const cfg = s.overlayConfig;
    const scene = forcedScene || s.scene;
    const body = document.body;
    body.classList.toggle("theme-light", cfg.theme === "light");
    body.classList.toggle("theme-dark", cfg.theme !== "light");
    body.classList.toggle("transitions", cfg.sceneTransitions !== false);
    const showDecisions = cfg.showDecisions && s.streamType === "agent";
    const showTicker = cfg.showEventFeed && s.events.length > 0;
    body.classList.toggle("with-decisions", showDecisions);
    body.classList.toggle("with-ticker", showTicker);
    body.classList.toggle("no-info", !cfg.showAgentInfo);

    $("info-bar").hidden = !cfg.showAgentInfo;
    setText("entity-name", s.entityName);
    setText("stream-type", s.streamType === "agent" ? "AI agent" : "Streamer");
    setText("info-platform", s.platform);
    const avatar = $("entity-avatar");
    avatar.hidden = !s.entityAvatarUrl;
    if (s.entityAvatarUrl && avatar.getAttribute("src") !== s.entityAvatarUrl) avatar.src = s.entityAvatarUrl;

    pill("hud-status", String(s.status).toUpperCase());
    // The info bar names the platform already.
    pill("hud-platform", cfg.showAgentInfo ? null : s.platform);
    pill("hud-scene", cfg.showSceneLabel === false ? null : LABELS[scene]);
    pill("hud-turn", s.gameState ? "Turn " + s.gameState.turnNumber : null);
    pill("hud-lobby", s.currentLobbyId ? "Lobby " + s.currentLobbyId : null);
    pill("hud-viewers", s.viewerCount + " viewers");

    const board = scene === "live-game" && s.gameState;
    $("board").hidden = !board;
    $("waiting").hidden = !!board;
    if (board) renderBoard(s.gameState); else renderWaiting(s, scene);
    if (scene !== shownScene) {
      const shown = board ? $("board") : $("waiting");
      shown.classList.remove("enter");
      void shown.offsetWidth;
      shown.classList.add("enter");
      shownScene = scene;
    }

    $("decisions").hidden = !showDecisions;
    $("analyzing").hidden = s.decisions.length > 0;
    const decisions = $("decision-list");
    decisions.replaceChildren(...s.decisions.map((d) => {
      const li = el("li");
      li.append(el("span", "action", "Turn " + d.turnNumber + " · " + d.action), el("span", "reasoning", d.reasoning));
      return li;
    }));
    $("ticker").hidden = !showTicker;
    const events = $("event-list");
    events.replaceChildren(...s.events.map((e) =>
      el("li", null, (e.playerUsername ? e.playerUsername + ": " : "") + e.description)));

    const pip = $("pip");
    const picture = cfg.profilePictureUrl || s.entityAvatarUrl;
    const showPip = cfg.showPlayerCam && cfg.playerVisualMode === "profile-picture" && !!picture;
    pip.hidden = !showPip;
    if (showPip) {
      const size = PIP_SIZES[cfg.webcamSize || "medium"];
      pip.className = cfg.webcamPosition || "bottom-right";
      pip.style.width = size + "px";
      pip.style.height = size + "px";
      if (pip.getAttribute("src") !== picture) pip.src = picture;
    }

    voice(cfg);
    startTone();
    // Drop what does not fit whole (after layout).
    keepFitting(decisions, $("decisions"), false);
    keepFitting(events, $("ticker"), true);

    body.dataset.status = s.status;
    body.dataset.scene = scene;
    body.dataset.version = String(s.version);
    body.dataset.rendered = String(Date.now());
    if (!announced) {
      announced = true;
      announce();
    }
  }

  // The first complete picture is on screen: images settled, two frames painted. LiveKit's
  // web egress (and our browser egress) start recording on this console line.
  function announce() {
    const images = Array.from(document.images).filter((i) => !i.hidden && i.getAttribute("src"));
    const settled = images.map((img) => img.complete ? Promise.resolve() :
      new Promise((done) => { img.onload = done; img.onerror = done; setTimeout(done, 5000); }));
    Promise.all(settled).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
      document.body.dataset.ready = "true";
      console.log("START_RECORDING");
    })));
  }

  const query = preview
    ? "preview=1" + (params.get("theme") === "light" ? "&theme=light" : "")
    : "sessionId=" + encodeURIComponent(params.get("sessionId") || "") +
      "&token=" + encodeURIComponent(params.get("token") || "");
  const source = new EventSource("/stream/overlay/events?" + query);
  source.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    render(snapshot);
    // The server ends the stream after an ended session's last snapshot: do not reconnect.
    if (snapshot.status === "ended" || snapshot.status === "error") source.close();
  });
  source.addEventListener("denied", () => {
    source.close();
    document.body.dataset.denied = "true";
    setText("waiting-title", "Overlay access expired");
  });
})();

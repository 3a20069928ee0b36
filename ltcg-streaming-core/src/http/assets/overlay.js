// The overlay page: follows /stream/overlay/events (server-sent events) and renders with
// textContent only, so no data can inject markup.
(() => {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const query = "sessionId=" + encodeURIComponent(params.get("sessionId") || "") +
    "&token=" + encodeURIComponent(params.get("token") || "");
  const $ = (id) => document.getElementById(id);
  let announced = false;

  function setText(id, text) {
    $(id).textContent = text == null ? "" : String(text);
  }

  function list(id, items, fill) {
    const target = $(id);
    target.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      fill(li, item);
      return li;
    }));
  }

  function render(s) {
    const cfg = s.overlayConfig;
    document.body.className = "theme-" + (cfg.theme === "light" ? "light" : "dark");
    $("info-bar").hidden = !cfg.showAgentInfo;
    setText("entity-name", s.entityName);
    setText("stream-type", s.streamType);
    setText("platform", s.platform);
    setText("status", s.status);
    setText("viewers", s.viewerCount + " viewers");
    setText("title", s.streamTitle);
    setText("lobby", s.currentLobbyId ? "Lobby " + s.currentLobbyId : "");
    $("decisions").hidden = !(cfg.showDecisions && s.streamType === "agent");
    $("analyzing").hidden = s.decisions.length > 0;
    list("decision-list", s.decisions, (li, d) => {
      const action = document.createElement("span");
      action.className = "action";
      action.textContent = "Turn " + d.turnNumber + " · " + d.action;
      const reasoning = document.createElement("span");
      reasoning.className = "reasoning";
      reasoning.textContent = d.reasoning;
      li.append(action, reasoning);
    });
    $("ticker").hidden = !(cfg.showEventFeed && s.events.length > 0);
    list("event-list", s.events, (li, e) => {
      li.textContent = (e.playerUsername ? e.playerUsername + ": " : "") + e.description;
    });
    document.body.dataset.status = s.status;
    if (!announced) {
      announced = true;
      document.body.dataset.ready = "true";
      // LiveKit web egress starts recording on this line when awaitStartSignal is set.
      console.log("START_RECORDING");
    }
  }

  const source = new EventSource("/stream/overlay/events?" + query);
  source.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    render(snapshot);
    // The server ends the stream after an ended session's last snapshot: do not reconnect.
    if (snapshot.status === "ended" || snapshot.status === "error") source.close();
  });
  source.addEventListener("denied", () => {
    source.close();
    setText("title", "Overlay access expired");
  });
})();

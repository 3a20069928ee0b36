//! The overlay push benchmark: from a service call (a decision, a game state) to the change in
//! the overlay page's DOM, measured inside a real headless Chromium on loopback.
//!
//! ```sh
//! cargo run --release -p ltcg-streaming-benches --bin overlay_latency -- 200
//! #                                                                      writes of each kind
//! ```
//!
//! The page records (with a `MutationObserver`, `performance.timeOrigin + performance.now()`)
//! when each write's text first appears; the write's start is this process's wall clock just
//! before the call. Both clocks are the machine's. Prints the median, p95 and maximum per kind
//! as a Markdown table row. Needs Debian's chromium.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ltcg_streaming_core::service::{DecisionInput, StartStreamRequest};
use ltcg_streaming_core::{Actor, GameState, MemoryStore};
use ltcg_streaming_test_support::browser::{chromium, Headless};
use ltcg_streaming_test_support::live_router::LiveRouter;
use serde_json::json;

/// Records when each awaited text first appears anywhere in the page.
const OBSERVER: &str = r#"(() => {
  window.__wanted = new Set(); window.__seen = {};
  new MutationObserver(() => {
    const at = performance.timeOrigin + performance.now();
    const text = document.getElementById('root').textContent;
    for (const w of window.__wanted) if (text.includes(w)) { window.__seen[w] = at; window.__wanted.delete(w); }
  }).observe(document.getElementById('root'), {subtree: true, childList: true, characterData: true});
  return true;
})()"#;

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn game(lp: i64) -> GameState {
    serde_json::from_value(json!({
        "lobbyId": "lobby_bench", "gameId": "g1", "turnNumber": 1, "phase": "main1", "activePlayer": "host",
        "host": {"playerId": "agent_bench", "name": "Bench", "lifePoints": lp},
        "opponent": {"name": "Rival", "lifePoints": 8000}
    }))
    .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let writes: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let Some(exe) = chromium() else {
        eprintln!("chromium is not installed");
        std::process::exit(2);
    };
    let live = LiveRouter::start(Arc::new(MemoryStore::new()));
    let s = &live.service;
    let req: StartStreamRequest = serde_json::from_value(json!({
        "agentId": "agent_bench", "platform": "twitch", "streamKey": "live_bench_key_0123456789",
        "lobbyId": "lobby_bench"
    }))
    .unwrap();
    let started = live
        .rt
        .block_on(s.start_stream(&Actor::Internal, req))
        .unwrap();
    live.rt
        .block_on(s.update_game_state(&Actor::Internal, game(8000)))
        .unwrap();
    let mut page = Headless::start(&exe, 1280, 720);
    page.goto(&started.overlay_url);
    assert!(page.wait_for(
        "document.body && document.body.dataset.ready === 'true'",
        Duration::from_secs(20)
    ));
    assert_eq!(page.eval(OBSERVER), json!(true));
    let mut results = Vec::new();
    for kind in ["decision", "game state"] {
        let mut latencies = Vec::with_capacity(writes);
        for i in 0..writes {
            let marker = match kind {
                "decision" => format!("mark{i:05}x"),
                _ => format!("LP {}", 100_000 + i),
            };
            page.eval(&format!("window.__wanted.add({marker:?})"));
            let at = now_ms();
            live.rt.block_on(async {
                if kind == "decision" {
                    let d: DecisionInput = serde_json::from_value(json!({
                        "sessionId": started.session_id, "gameId": "g1", "turnNumber": 1,
                        "phase": "main1", "action": "bench", "reasoning": marker
                    }))
                    .unwrap();
                    s.record_decision(&Actor::Internal, d).await.unwrap();
                } else {
                    s.update_game_state(&Actor::Internal, game(100_000 + i as i64))
                        .await
                        .unwrap();
                }
            });
            let seen = format!("window.__seen[{marker:?}] !== undefined");
            assert!(
                page.wait_for(&seen, Duration::from_secs(10)),
                "{kind} {i} never shown"
            );
            let shown = page
                .eval(&format!("window.__seen[{marker:?}]"))
                .as_f64()
                .unwrap();
            latencies.push(shown - at);
            std::thread::sleep(Duration::from_millis(30));
        }
        latencies.sort_by(f64::total_cmp);
        results.push((kind, latencies));
    }
    println!("| write | n | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (kind, l) in results {
        println!(
            "| {kind} | {} | {:.1} | {:.1} | {:.1} |",
            l.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.95),
            l[l.len() - 1]
        );
    }
}

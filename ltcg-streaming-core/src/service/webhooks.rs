//! LiveKit webhooks: verify, de-duplicate by event id, match to a session, apply.

use super::{StreamingService, WebhookOutcome};
use crate::error::{Error, Result};
use crate::session::{
    Destination, EgressStatus, SessionEvent, StreamSession, TimelineEntry, TimelineKind,
};
use crate::webhook::EgressEvent;

impl StreamingService {
    /// Handles a LiveKit webhook: `raw_body` exactly as received and the `Authorization`
    /// header. Forged or stale webhooks are [`Error::Unauthorized`]; authentic ones are
    /// acknowledged even when they match no session (`applied: false`). Each event id is
    /// applied once; if applying fails the id is released so LiveKit's retry can apply it.
    pub async fn handle_webhook(
        &self,
        raw_body: &[u8],
        authorization: &str,
    ) -> Result<WebhookOutcome> {
        // Without LiveKit credentials no webhook can be authentic: the request is refused
        // like a forged one (a 401, not a server error logged for every stray request).
        let verifier = self.inner.webhooks.as_ref().ok_or_else(|| {
            Error::unauthorized(
                "webhooks are not accepted: no LiveKit API key and secret are configured",
            )
        })?;
        let event = verifier.verify(raw_body, authorization)?;
        self.ingest_egress_event(event).await
    }

    /// Applies an egress event from a trusted source (a verified webhook, or a local egress
    /// backend reporting its own processes): de-duplicated by event id, matched to its
    /// session by egress id or overlay URL, applied through the state machine.
    #[tracing::instrument(name = "egress_event", skip_all, fields(event = %event.event, egress_id = %event.egress_id.as_deref().unwrap_or("-"), session_id = tracing::field::Empty))]
    pub async fn ingest_egress_event(&self, event: EgressEvent) -> Result<WebhookOutcome> {
        let began = std::time::Instant::now();
        let result = self.ingest_once(event).await;
        if let Ok(WebhookOutcome {
            session_id: Some(id),
            ..
        }) = &result
        {
            tracing::Span::current().record("session_id", tracing::field::display(&id));
        }
        crate::telemetry::egress_event_finished(&result, began.elapsed());
        result
    }

    /// [`Self::ingest_egress_event`] without the metrics.
    async fn ingest_once(&self, event: EgressEvent) -> Result<WebhookOutcome> {
        let mut outcome = WebhookOutcome {
            received: true,
            event: event.event.clone(),
            egress_id: event.egress_id.clone(),
            session_id: None,
            applied: false,
            duplicate: false,
            note: None,
        };
        let (Some(egress_id), Some(status)) = (event.egress_id.clone(), event.status) else {
            outcome.note = Some("not an egress event".into());
            return Ok(outcome);
        };
        // Claim the event id and look up its session at the same time (one round trip of
        // latency on a networked store instead of two).
        let claimed = !event.id.is_empty();
        let claim = async {
            match claimed {
                true => self.inner.store.claim_event(&event.id, self.now()).await,
                false => Ok(true),
            }
        };
        let find = self.session_for_egress(&egress_id, event.web_url.as_deref());
        let (first, session) = tokio::join!(claim, find);
        if !first? {
            outcome.duplicate = true;
            outcome.note = Some("event already processed".into());
            return Ok(outcome);
        }
        let applied = match session {
            Ok(session) => {
                self.apply_egress_event(&event, session, egress_id, status, &mut outcome)
                    .await
            }
            Err(e) => Err(e),
        };
        if applied.is_err() && claimed {
            if let Err(e) = self.inner.store.release_event(&event.id).await {
                tracing::warn!(event = %event.id, error = %e, "could not release a failed webhook event");
            }
        }
        applied.map(|()| outcome)
    }

    /// Follows the events of the service's own egress backend when it runs egresses itself
    /// ([`crate::egress::EgressBackend::events`]: the browser and test-pattern egresses),
    /// with [`Self::follow_egress_events`]; `None` for backends whose events come as
    /// webhooks. Call it once, within a tokio runtime.
    pub fn follow_backend_events(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.inner
            .egress
            .events()
            .map(|events| self.follow_egress_events(events))
    }

    /// Feeds events from a local egress backend (e.g. `BrowserEgress::events`) into
    /// [`StreamingService::ingest_egress_event`] until the sender is gone. Missed events
    /// (a slow listener) are left to [`StreamingService::reconcile`].
    ///
    /// When the service's backend renders locally, the same task keeps the render leases
    /// (see [`crate::ReplicaOptions`]): an egress's lease is claimed before its first event
    /// is applied, renewed every third of the lease time while it runs, and released when
    /// it ends; a render whose lease another replica took is stopped.
    pub fn follow_egress_events(
        &self,
        mut events: tokio::sync::broadcast::Receiver<EgressEvent>,
    ) -> tokio::task::JoinHandle<()> {
        use tokio::sync::broadcast::error::RecvError;
        let service = self.clone();
        let keep_leases = self.inner.egress.runs_locally();
        let period = (self.inner.replica.lease_ttl / 3).max(std::time::Duration::from_millis(10));
        let mut renew = tokio::time::interval(period);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::spawn(async move {
            let mut kept = std::collections::HashSet::new();
            loop {
                let received = tokio::select! {
                    received = events.recv() => received,
                    _ = renew.tick(), if keep_leases => {
                        service.keep_render_leases(&mut kept).await;
                        continue;
                    }
                };
                match received {
                    Ok(event) => {
                        if keep_leases {
                            service.claim_running_render(&event).await;
                        }
                        if let Err(e) = service.ingest_egress_event(event).await {
                            tracing::warn!(error = %e, "could not apply a local egress event");
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "missed local egress events; the reconciler will catch up"
                        );
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }

    async fn apply_egress_event(
        &self,
        event: &EgressEvent,
        session: Option<StreamSession>,
        egress_id: String,
        status: EgressStatus,
        outcome: &mut WebhookOutcome,
    ) -> Result<()> {
        let Some(session) = session else {
            outcome.note = Some("no session for this egress".into());
            return Ok(());
        };
        outcome.session_id = Some(session.id.clone());
        tracing::Span::current().record("session_id", tracing::field::display(&session.id));
        // An egress reaches ENDING, COMPLETE or LIMIT_REACHED only through ACTIVE, and these
        // events carry its `startedAt`: if the ACTIVE event was lost or is still on its way,
        // go live at that time first, so the session ends as it would have in order.
        let mut went_live = false;
        let session = match went_live_at_ms(event, status) {
            Some(started)
                if session.status.is_active()
                    && session.started_at.is_none()
                    && session
                        .egress_id
                        .as_deref()
                        .is_none_or(|own| own == egress_id) =>
            {
                let active = SessionEvent::Egress {
                    egress_id: egress_id.clone(),
                    status: EgressStatus::Active,
                    error: None,
                };
                let t = self.apply_to(session, &active, Some(started)).await?;
                went_live = t.changed;
                t.session
            }
            _ => session,
        };
        let at = event_time_ms(event, status);
        // An egress's error text may quote its output URLs: never store or log a key.
        let change = SessionEvent::Egress {
            egress_id,
            status,
            error: event
                .error
                .as_deref()
                .map(crate::redact::redact_urls_in_text),
        };
        let t = self.apply_to(session, &change, at).await?;
        let outputs_failed = self.apply_output_failures(event, &t.session).await?;
        outcome.applied = t.changed || went_live || outputs_failed;
        outcome.note = if outcome.applied {
            None
        } else {
            t.ignored.map(str::to_owned)
        };
        Ok(())
    }

    /// Marks the session's destinations whose outputs the event reports `FAILED`; `true`
    /// when one changed.
    async fn apply_output_failures(
        &self,
        event: &EgressEvent,
        session: &StreamSession,
    ) -> Result<bool> {
        let failed: Vec<_> = event
            .stream_results
            .iter()
            .filter(|r| r.status == "FAILED")
            .collect();
        let own_egress = session.egress_id.is_some() && session.egress_id == event.egress_id;
        if failed.is_empty() || !own_egress {
            return Ok(false);
        }
        let apply = |s: &mut StreamSession| {
            let mut changed = false;
            for r in &failed {
                changed |=
                    Destination::fail_by_output(&mut s.destinations, &r.url, r.error.as_deref());
            }
            changed
        };
        if !apply(&mut session.clone()) {
            return Ok(false);
        }
        let saved = self
            .modify(&session.id, |s| {
                apply(s);
                Ok(())
            })
            .await?;
        let at = self.now();
        let entries = failed
            .iter()
            .map(|r| {
                let why = r.error.as_deref().map(crate::redact::redact_urls_in_text);
                TimelineEntry::new(
                    &saved.id,
                    at,
                    TimelineKind::DestinationFailed,
                    saved.status,
                    match why {
                        Some(why) => format!("{}: {why}", r.url),
                        None => r.url.clone(),
                    },
                )
            })
            .collect();
        self.note(entries).await;
        Ok(true)
    }
}

/// When an ENDING, COMPLETE or LIMIT_REACHED egress went ACTIVE, from its `startedAt`,
/// in Unix ms.
fn went_live_at_ms(event: &EgressEvent, status: EgressStatus) -> Option<i64> {
    let after_active = matches!(
        status,
        EgressStatus::Ending | EgressStatus::Complete | EgressStatus::LimitReached
    );
    (after_active && event.started_at_ns > 0).then_some(event.started_at_ns / 1_000_000)
}

/// When the egress says it started (ACTIVE) or ended, in Unix ms; `None` = now.
fn event_time_ms(event: &EgressEvent, status: EgressStatus) -> Option<i64> {
    let ns = match status {
        EgressStatus::Active => event.started_at_ns,
        s if s.is_terminal() => event.ended_at_ns,
        _ => 0,
    };
    (ns > 0).then_some(ns / 1_000_000)
}

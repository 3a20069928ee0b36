//! Adding and removing outputs of a live stream (simulcast).

use super::{
    within, Actor, DestinationOnPlatform, DestinationRef, DestinationView, StreamingService,
    UpdateDestinationsRequest, UpdateDestinationsResponse, MAX_DESTINATIONS,
};
use crate::error::{Error, Result};
use crate::platform::build_rtmp_url;
use crate::session::{Destination, DestinationStatus, SessionStatus, TimelineEntry, TimelineKind};
use crate::vault::SecretString;

impl StreamingService {
    /// Adds and removes outputs while the session streams. Destinations are identified by
    /// our ids (never by URL: LiveKit reports URLs redacted). Keys come only from the
    /// request. The egress is changed first; the session then records the result in one
    /// compare-and-swap update (failed additions are recorded as `failed`).
    pub async fn update_destinations(
        &self,
        actor: &Actor,
        req: UpdateDestinationsRequest,
    ) -> Result<UpdateDestinationsResponse> {
        self.inner.limits.call(actor)?;
        let session = self.load(&req.session_id).await?;
        actor.authorize(&session)?;
        if req.add.is_empty() && req.remove.is_empty() {
            return Err(Error::invalid("add", "no destination changes requested"));
        }
        let egress_id = match (&session.status, &session.egress_id) {
            (SessionStatus::Pending | SessionStatus::Live, Some(id)) => id.clone(),
            _ => return Err(Error::conflict("session is not streaming")),
        };
        let active: Vec<&Destination> = session
            .destinations
            .iter()
            .filter(|d| d.status == DestinationStatus::Active)
            .collect();
        let mut remove: Vec<String> = Vec::with_capacity(req.remove.len());
        for (i, wanted) in req.remove.iter().enumerate() {
            let found = active.iter().find(|d| {
                !remove.contains(&d.id)
                    && match wanted {
                        DestinationRef::Id(id) => &d.id == id,
                        DestinationRef::Platform(DestinationOnPlatform { platform }) => {
                            d.platform == *platform && !d.primary
                        }
                    }
            });
            match found {
                Some(d) => remove.push(d.id.clone()),
                None => {
                    return Err(Error::invalid(
                        format!("remove[{i}]"),
                        "is not an active destination of this session",
                    ))
                }
            }
        }
        let req = UpdateDestinationsRequest {
            remove: Vec::new(),
            ..req
        };
        let remaining = active.len() - remove.len() + req.add.len();
        if remaining == 0 {
            return Err(Error::conflict(
                "a stream needs at least one destination; stop it instead",
            ));
        }
        if remaining > MAX_DESTINATIONS {
            return Err(Error::invalid(
                "add",
                format!("at most {MAX_DESTINATIONS} destinations per stream"),
            ));
        }
        let mut add_urls = Vec::new();
        let mut add_channels = Vec::new();
        for (i, d) in req.add.iter().enumerate() {
            add_channels.push(
                d.channel
                    .as_deref()
                    .map(|c| Destination::channel_for(&format!("add[{i}].channel"), d.platform, c))
                    .transpose()?,
            );
            let url = build_rtmp_url(
                d.platform,
                d.stream_key.expose_secret(),
                d.custom_rtmp_url.as_deref(),
            )
            .map_err(|e| within(&format!("add[{i}]"), e))?;
            self.check_reach(
                actor,
                &format!("add[{i}].customRtmpUrl"),
                d.custom_rtmp_url.as_deref(),
            )
            .await?;
            add_urls.push((d.platform, url));
        }
        // Outputs added to a test stream are test streams too.
        if session.dry_run {
            add_urls = super::start::dry_run_targets(add_urls)?;
        }
        let mut existing_urls = Vec::new();
        for d in &active {
            existing_urls.push(self.inner.vault.decrypt(&d.encrypted_url).await?);
        }
        for (i, (_, url)) in add_urls.iter().enumerate() {
            let full = url.expose_secret();
            let duplicate_of_existing = active
                .iter()
                .zip(&existing_urls)
                .any(|(d, u)| u.expose_secret() == full && !remove.contains(&d.id));
            if duplicate_of_existing || add_urls[..i].iter().any(|(_, u)| u == url) {
                return Err(Error::invalid(
                    format!("add[{i}]"),
                    "is already a destination of this session",
                ));
            }
        }
        let remove_urls: Vec<SecretString> = active
            .iter()
            .zip(&existing_urls)
            .filter(|(d, _)| remove.contains(&d.id))
            .map(|(_, u)| u.clone())
            .collect();
        let add_secrets: Vec<SecretString> = add_urls
            .iter()
            .map(|(_, u)| u.clone().into_secret())
            .collect();

        let now = self.now();
        let mut added = Vec::new();
        for ((platform, url), channel) in add_urls.iter().zip(&add_channels) {
            added.push(Destination {
                id: Destination::generate_id(),
                platform: *platform,
                redacted_url: url.redacted().to_owned(),
                encrypted_url: self.inner.vault.encrypt(&url.clone().into_secret()).await?,
                status: DestinationStatus::Active,
                primary: false,
                added_at: now,
                removed_at: None,
                error_message: None,
                channel: channel.clone(),
                warning: None,
                preview_url: None,
                encrypted_access_token: None,
            });
        }
        let result = self
            .inner
            .egress
            .update_outputs(&egress_id, &add_secrets, &remove_urls)
            .await;
        if let Err(e) = &result {
            // Whatever the backend, a stored error never quotes a stream key.
            let message = crate::redact::redact_urls_in_text(&e.to_string());
            for d in &mut added {
                d.status = DestinationStatus::Failed;
                d.error_message = Some(message.clone());
            }
        }
        let succeeded = result.is_ok();
        let removed_ids = remove.clone();
        let saved = self
            .modify(&req.session_id, |s| {
                s.destinations.extend(added.iter().cloned());
                if succeeded {
                    for d in s
                        .destinations
                        .iter_mut()
                        .filter(|d| removed_ids.contains(&d.id))
                    {
                        d.status = DestinationStatus::Removed;
                        d.removed_at = Some(now);
                    }
                }
                Ok(())
            })
            .await?;
        let mut entries: Vec<TimelineEntry> = added
            .iter()
            .map(|d| {
                let (kind, cause) = match &d.error_message {
                    None => (
                        TimelineKind::DestinationAdded,
                        format!("{} {}", d.platform, d.redacted_url),
                    ),
                    Some(why) => (
                        TimelineKind::DestinationFailed,
                        format!("{} {}: {why}", d.platform, d.redacted_url),
                    ),
                };
                TimelineEntry::new(&saved.id, now, kind, saved.status, cause)
            })
            .collect();
        if succeeded {
            entries.extend(
                saved
                    .destinations
                    .iter()
                    .filter(|d| removed_ids.contains(&d.id))
                    .map(|d| {
                        TimelineEntry::new(
                            &saved.id,
                            now,
                            TimelineKind::DestinationRemoved,
                            saved.status,
                            format!("{} {}", d.platform, d.redacted_url),
                        )
                    }),
            );
        }
        self.note(entries).await;
        result?;
        Ok(UpdateDestinationsResponse {
            success: true,
            added: added.iter().map(DestinationView::from).collect(),
            removed: remove,
            destinations: saved
                .destinations
                .iter()
                .map(DestinationView::from)
                .collect(),
        })
    }
}

//! The pure primitives: vault, overlay tokens, webhook verification, RTMP URLs.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ltcg_streaming_benches::{egress_updated_body, sign_webhook, API_KEY, API_SECRET, KEY_HEX};
use ltcg_streaming_core::{
    build_rtmp_url, AesGcmVault, OverlayTokens, Platform, StreamType, WebhookVerifier,
};

const NOW: i64 = 1_795_478_340;

fn vault(c: &mut Criterion) {
    let vault = AesGcmVault::from_hex(KEY_HEX).expect("valid key");
    let sealed = vault
        .encrypt_key("live_123456789_abcdefghijklmnop")
        .expect("encrypts");
    c.bench_function("vault/encrypt", |b| {
        b.iter(|| vault.encrypt_key(black_box("live_123456789_abcdefghijklmnop")))
    });
    c.bench_function("vault/decrypt", |b| {
        b.iter(|| vault.decrypt_key(black_box(&sealed)))
    });
}

fn tokens(c: &mut Criterion) {
    let tokens = OverlayTokens::new("bench-overlay-secret-0123456789abcdef").expect("secret");
    let token = tokens
        .issue_at("ses_bench", StreamType::Agent, "agent_1", NOW)
        .expect("issues");
    c.bench_function("token/issue", |b| {
        b.iter(|| tokens.issue_at(black_box("ses_bench"), StreamType::Agent, "agent_1", NOW))
    });
    c.bench_function("token/verify", |b| {
        b.iter(|| tokens.verify_at(black_box(&token), Some("ses_bench"), NOW))
    });
}

fn webhook(c: &mut Criterion) {
    let verifier = WebhookVerifier::new(API_KEY, API_SECRET).expect("credentials");
    let body = egress_updated_body("EG_bench", "ses_bench");
    let auth = sign_webhook(&body, NOW);
    c.bench_function("webhook/verify+parse", |b| {
        b.iter(|| verifier.verify_at(black_box(body.as_bytes()), black_box(&auth), NOW))
    });
}

fn rtmp(c: &mut Criterion) {
    c.bench_function("rtmp/build_custom", |b| {
        b.iter(|| {
            build_rtmp_url(
                Platform::Custom,
                black_box("live_123456789_abcdefghijklmnop"),
                Some(black_box("rtmps://ingest.example.com:443/live")),
            )
        })
    });
}

criterion_group!(benches, vault, tokens, webhook, rtmp);
criterion_main!(benches);

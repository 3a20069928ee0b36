//! Redaction: what logs, errors and responses show instead of secrets.
//!
//! - [`REDACTED`] stands in for a whole secret ([`crate::SecretString`], API secrets);
//! - [`redact_identifier`] shortens a stream key the LiveKit way (`{abc...xyz}`);
//! - [`redact_url`] hides the key and query of an RTMP(S) ingest URL, and
//!   [`redact_urls_in_text`] every such URL in free text;
//! - [`Scrubber`] removes known secrets (stream keys, page tokens, API secrets) and anything
//!   shaped like a URL query or a JWT from a server's message.
//!
//! [`crate::platform`] re-exports the URL and key functions, as it always has.

use std::fmt;

/// What `Debug`, `Display` and `Serialize` print instead of a secret.
pub const REDACTED: &str = "[redacted]";
/// Longest scrubbed message kept, in characters.
const MAX_MESSAGE_CHARS: usize = 300;
/// Shortest stream key or query value that is searched for and redacted in messages.
const MIN_SCRUBBED_LEN: usize = 4;

/// Redacts a stream key the LiveKit way: `{abc...xyz}` keeps 3 characters at each end when
/// the key has at least 9, 2 for at least 6, 1 for at least 3, none otherwise.
///
/// ```
/// use ltcg_streaming_core::redact::redact_identifier;
/// assert_eq!(redact_identifier("live_123456789_abcdefghijklmnop"), "{liv...nop}");
/// assert_eq!(redact_identifier("abcdef"), "{ab...ef}");
/// assert_eq!(redact_identifier("ab"), "{...}");
/// ```
pub fn redact_identifier(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let keep = (1..=3).rev().find(|i| chars.len() >= i * 3).unwrap_or(0);
    let prefix: String = chars[..keep].iter().collect();
    let suffix: String = chars[chars.len() - keep..].iter().collect();
    format!("{{{prefix}...{suffix}}}")
}

/// Redacts the stream key of an ingest URL for logs: the last path segment after the
/// application segment becomes [`redact_identifier`] of it, and any query or fragment
/// becomes `{...}`. A string that is not an `rtmp(s)://host/...` URL is redacted whole.
///
/// ```
/// use ltcg_streaming_core::redact_url;
/// assert_eq!(
///     redact_url("rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop"),
///     "rtmps://live.twitch.tv/app/{liv...nop}"
/// );
/// assert_eq!(redact_url("rtmp://example.com/live"), "rtmp://example.com/live");
/// ```
pub fn redact_url(url: &str) -> String {
    let Some((_, rest)) = split_rtmp_scheme(url) else {
        return "{...}".to_owned();
    };
    let scheme_len = url.len() - rest.len();
    let tail_start = rest.find(['?', '#']).unwrap_or(rest.len());
    let (path_part, tail) = rest.split_at(tail_start);
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..scheme_len]);
    match path_part.split('/').filter(|s| !s.is_empty()).count() {
        // host only, or host + application: nothing secret in the path.
        0..=2 => out.push_str(path_part),
        _ => {
            let (head, key) = path_part.rsplit_once('/').unwrap_or(("", path_part));
            out.push_str(head);
            out.push('/');
            out.push_str(&redact_identifier(key));
        }
    }
    if let Some(marker) = tail.chars().next() {
        out.push(marker);
        out.push_str("{...}");
    }
    out
}

/// Redacts a web page URL (such as the overlay URL, whose query holds its access token)
/// for messages: the scheme, host and path are kept, a query or fragment becomes `{...}`.
///
/// ```
/// use ltcg_streaming_core::redact::redact_page_url;
/// assert_eq!(
///     redact_page_url("https://app.example/stream/overlay?sessionId=s1&token=abc"),
///     "https://app.example/stream/overlay?{...}"
/// );
/// ```
pub fn redact_page_url(url: &str) -> String {
    match url.find(['?', '#']) {
        Some(i) => format!("{}{}{{...}}", &url[..i], &url[i..=i]),
        None => url.to_owned(),
    }
}

/// Redacts every `rtmp://` / `rtmps://` URL (scheme in any case) inside free text, such as
/// an error message from LiveKit, with [`redact_url`]. A URL runs to the next whitespace,
/// control character, quote, backtick, `<` or `>`; trailing `.`, `,`, `;`, `:`, `!`, `)`
/// and `]` are kept as text. A URL that is already redacted (`.../{abc...xyz}`) is kept.
///
/// ```
/// use ltcg_streaming_core::redact::redact_urls_in_text;
/// assert_eq!(
///     redact_urls_in_text(
///         "cannot push to \"rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop\"."
///     ),
///     "cannot push to \"rtmps://live.twitch.tv/app/{liv...nop}\"."
/// );
/// assert_eq!(redact_urls_in_text("no URL here"), "no URL here");
/// ```
pub fn redact_urls_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_rtmp_scheme(rest) {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>')
            })
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', ')', ']']);
        if is_redacted_url(url) {
            out.push_str(url);
        } else {
            out.push_str(&redact_url(url));
        }
        out.push_str(&candidate[url.len()..end]);
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// Byte offset of the first `rtmp://` or `rtmps://` (ASCII case ignored) in `text`.
fn find_rtmp_scheme(text: &str) -> Option<usize> {
    let starts_with = |i: usize, prefix: &str| {
        text.get(i..i + prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    text.char_indices()
        .filter(|(_, c)| matches!(c, 'r' | 'R'))
        .map(|(i, _)| i)
        .find(|&i| starts_with(i, "rtmp://") || starts_with(i, "rtmps://"))
}

/// Whether `url` already is in [`redact_url`]'s output form: its last path segment is a
/// [`redact_identifier`] result and any query or fragment is `{...}`.
fn is_redacted_url(url: &str) -> bool {
    let Some((_, rest)) = split_rtmp_scheme(url) else {
        return false;
    };
    let tail_start = rest.find(['?', '#']).unwrap_or(rest.len());
    let (path_part, tail) = rest.split_at(tail_start);
    if !(tail.is_empty() || tail[1..] == *"{...}") {
        return false;
    }
    let Some((_, key)) = path_part.rsplit_once('/') else {
        return false;
    };
    let Some((prefix, suffix)) = key
        .strip_prefix('{')
        .and_then(|k| k.strip_suffix('}'))
        .and_then(|k| k.split_once("..."))
    else {
        return false;
    };
    let (p, s) = (prefix.chars().count(), suffix.chars().count());
    p == s && p <= 3 && !prefix.contains(['{', '}', '.']) && !suffix.contains(['{', '}', '.'])
}

/// Splits `rtmp://` / `rtmps://` (any case) off the front; returns the lower-case scheme.
pub(crate) fn split_rtmp_scheme(url: &str) -> Option<(&'static str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.eq_ignore_ascii_case("rtmp") {
        Some(("rtmp", rest))
    } else if scheme.eq_ignore_ascii_case("rtmps") {
        Some(("rtmps", rest))
    } else {
        None
    }
}

/// Removes secrets from a message (such as a server's error text) before it becomes an
/// error message: the exact secrets it is told about, then, whatever it was told, every
/// RTMP(S) URL's key ([`redact_urls_in_text`]), every `http(s)://` URL's query and anything
/// shaped like a JWT.
///
/// `Debug` shows how many secrets it knows, never the secrets.
///
/// ```
/// use ltcg_streaming_core::redact::Scrubber;
/// let mut scrubber = Scrubber::default();
/// scrubber.add_rtmp_url("rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop");
/// assert_eq!(
///     scrubber.scrub("bad key live_123456789_abcdefghijklmnop"),
///     "bad key {liv...nop}"
/// );
/// ```
#[derive(Default)]
pub struct Scrubber {
    /// (needle, replacement), longest needle first once [`Scrubber::scrub`] runs.
    needles: Vec<(String, String)>,
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("secrets", &self.needles.len())
            .finish()
    }
}

impl Scrubber {
    /// Replaces `needle` with `replacement`; an empty or already known needle is ignored.
    pub fn add(&mut self, needle: &str, replacement: String) {
        if !needle.is_empty() && !self.needles.iter().any(|(n, _)| n == needle) {
            self.needles.push((needle.to_owned(), replacement));
        }
    }

    /// An RTMP(S) output URL (shown as [`redact_url`] shows it), its stream key (its last
    /// path segment, shown as [`redact_identifier`]) and its query values.
    pub fn add_rtmp_url(&mut self, url: &str) {
        self.add(url, redact_url(url));
        let path = url.split(['?', '#']).next().unwrap_or_default();
        if let Some((_, key)) = path.trim_end_matches('/').rsplit_once('/') {
            if key.chars().count() >= MIN_SCRUBBED_LEN {
                self.add(key, redact_identifier(key));
            }
        }
        if let Some((_, query)) = url.split_once(['?', '#']) {
            self.add_query(query);
        }
    }

    /// A page URL: it is kept up to its query, which carries the overlay token and is
    /// hidden, values included.
    pub fn add_page_url(&mut self, url: &str) {
        if let Some((base, query)) = url.split_once(['?', '#']) {
            self.add(url, format!("{base}?{{...}}"));
            self.add_query(query);
        }
    }

    /// A query string and each of its values.
    fn add_query(&mut self, query: &str) {
        self.add(query, "{...}".to_owned());
        for pair in query.split(['&', '#', ';']) {
            let value = pair.split_once('=').map_or(pair, |(_, v)| v);
            if value.chars().count() >= MIN_SCRUBBED_LEN {
                self.add(value, "{...}".to_owned());
            }
        }
    }

    /// `text` with every known secret, RTMP URL key, URL query and JWT redacted, cut to
    /// 300 characters (then `…`) and trimmed.
    pub fn scrub(&self, text: &str) -> String {
        let mut needles: Vec<&(String, String)> = self.needles.iter().collect();
        needles.sort_by_key(|(needle, _)| std::cmp::Reverse(needle.len()));
        let mut out = text.to_owned();
        for (needle, replacement) in needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), replacement);
            }
        }
        let out = redact_jwts(&redact_http_queries(&redact_urls_in_text(&out)));
        let mut chars = out.chars();
        let mut short: String = chars.by_ref().take(MAX_MESSAGE_CHARS).collect();
        if chars.next().is_some() {
            short.push('…');
        }
        short.trim().to_owned()
    }
}

/// Replaces the query and fragment of every `http://` / `https://` URL in `text` with
/// `{...}` (page URLs carry their access token there).
fn redact_http_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_ignore_case(rest, "http") {
        let after = &rest[start..];
        let scheme_len = ["https://", "http://"]
            .iter()
            .find(|p| {
                after
                    .get(..p.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(p))
            })
            .map(|p| p.len());
        let Some(scheme_len) = scheme_len else {
            out.push_str(&rest[..start + 4]);
            rest = &rest[start + 4..];
            continue;
        };
        out.push_str(&rest[..start]);
        let end = after
            .find(|c: char| {
                c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '`' | '<' | '>')
            })
            .unwrap_or(after.len());
        let url = &after[..end];
        match url[scheme_len..].find(['?', '#']) {
            Some(i) => {
                let cut = scheme_len + i;
                out.push_str(&url[..=cut]);
                out.push_str("{...}");
            }
            None => out.push_str(url),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Replaces anything shaped like a JWT (`eyJ…` with two dots) with `{jwt}`.
fn redact_jwts(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        let after = &rest[start..];
        let end = after
            .find(|c: char| !(is_b64(c) || c == '.'))
            .unwrap_or(after.len());
        let candidate = &after[..end];
        out.push_str(&rest[..start]);
        if candidate.matches('.').count() >= 2 {
            out.push_str("{jwt}");
        } else {
            out.push_str(candidate);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Byte offset of the first ASCII-case-insensitive occurrence of `needle` (ASCII).
fn find_ignore_case(text: &str, needle: &str) -> Option<usize> {
    text.char_indices().map(|(i, _)| i).find(|&i| {
        text.get(i..i + needle.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(needle))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_lengths_follow_livekit() {
        assert_eq!(redact_identifier("abcdefghi"), "{abc...ghi}");
        assert_eq!(redact_identifier("abcdefgh"), "{ab...gh}");
        assert_eq!(redact_identifier("abcde"), "{a...e}");
        assert_eq!(redact_identifier("abc"), "{a...c}");
        assert_eq!(redact_identifier(""), "{...}");
        assert_eq!(redact_identifier("ключ-🔑-key"), "{клю...key}");
    }

    #[test]
    fn redact_url_hides_keys_queries_and_junk() {
        assert_eq!(
            redact_url("rtmp://h:1935/live/app/secretkey1?token=abc"),
            "rtmp://h:1935/live/app/{sec...ey1}?{...}"
        );
        assert_eq!(redact_url("https://evil/secret"), "{...}");
        assert_eq!(
            redact_url("RTMPS://h/app/abcdefghi"),
            "RTMPS://h/app/{abc...ghi}"
        );
    }

    #[test]
    fn redact_urls_in_text_hides_every_key() {
        let key = "live_123456789_abcdefghijklmnop";
        let text = format!(
            "twirp error: invalid_argument: outputs rtmps://live.twitch.tv/app/{key}, \
             RTMP://h:1935/live/other-secret-key?auth=pw and 'rtmp://x/app/{key}'."
        );
        let redacted = redact_urls_in_text(&text);
        assert_eq!(
            redacted,
            "twirp error: invalid_argument: outputs rtmps://live.twitch.tv/app/{liv...nop}, \
             RTMP://h:1935/live/{oth...key}?{...} and 'rtmp://x/app/{liv...nop}'."
        );
        assert!(!redacted.contains(key));
        assert!(!redacted.contains("other-secret-key"));
        assert!(!redacted.contains("pw"));
        // Already redacted URLs (as LiveKit echoes them) and URL-free text stay as they are.
        let echoed = "stream rtmps://live.twitch.tv/app/{liv...nop} failed";
        assert_eq!(redact_urls_in_text(echoed), echoed);
        assert_eq!(
            redact_urls_in_text("rtmp://h/app/{sec...ey1}?{...}"),
            "rtmp://h/app/{sec...ey1}?{...}"
        );
        assert_eq!(
            redact_urls_in_text("plain ünïcode text"),
            "plain ünïcode text"
        );
        assert_eq!(
            redact_urls_in_text("ends with rtmp://"),
            "ends with rtmp://"
        );
        // A fake redaction that would reveal more is redacted again.
        assert!(!redact_urls_in_text("rtmp://h/app/{abcd...wxyz}").contains("abcd"));
    }

    #[test]
    fn scrubber_hides_keys_tokens_and_secrets() {
        let mut scrubber = Scrubber::default();
        scrubber.add("super-secret-api", REDACTED.into());
        scrubber.add_rtmp_url("rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop");
        scrubber.add_page_url("https://app.test/stream/overlay?sessionId=s1&token=abc.def.ghi");
        let text = "bad url rtmps://live.twitch.tv/app/live_123456789_abcdefghijklmnop, key \
                    live_123456789_abcdefghijklmnop, page https://app.test/stream/overlay?\
                    sessionId=s1&token=abc.def.ghi token abc.def.ghi secret super-secret-api \
                    other https://x.test/p?token=zzz eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln";
        let out = scrubber.scrub(text);
        for secret in [
            "live_123456789_abcdefghijklmnop",
            "abc.def.ghi",
            "super-secret-api",
            "zzz",
            "eyJhbGciOiJIUzI1NiJ9",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(
            out.contains("rtmps://live.twitch.tv/app/{liv...nop}"),
            "{out}"
        );
        assert!(
            out.contains("https://app.test/stream/overlay?{...}"),
            "{out}"
        );
        assert_eq!(scrubber.scrub(&"x".repeat(1000)).chars().count(), 301);
    }
}

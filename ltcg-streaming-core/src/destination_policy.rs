//! Which network addresses a caller's stream may be pushed to.
//!
//! An egress connects wherever an output URL points, so a caller who chooses the URL could
//! make this machine (the local egress) or LiveKit connect to internal services. The
//! [`DestinationPolicy`] refuses, for callers that are not internal:
//! - IP literals and resolved addresses that are loopback, private (RFC 1918), shared
//!   (100.64/10), link-local, unique-local, site-local, multicast, unspecified, broadcast,
//!   reserved or benchmarking — in every literal form the system resolver accepts (decimal
//!   `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`, short `127.1`) and behind IPv4-mapped,
//!   IPv4-compatible, NAT64 and 6to4 IPv6 addresses;
//! - names of the local network: single-label names (`localhost`, `nginx`), and names under
//!   `localhost`, `local`, `localdomain`, `internal`, `intranet`, `private`, `corp`, `home`,
//!   `lan` or `home.arpa`;
//! - names that do not resolve, and names with any forbidden address among their answers.
//!
//! Operators allow their own hosts with [`DestinationPolicy::allow`] (a host name, a
//! `*.`-suffix, an IP address or a CIDR network; `STREAMING_DESTINATION_ALLOWLIST`).
//! Internal callers are not checked: the service skips the policy for them. In development
//! ([`crate::config::ConfigMode::Development`], and the reference server's development mode,
//! where every caller is internal) the policy is [`DestinationPolicy::unrestricted`].
//!
//! A check at start time alone lets DNS rebinding through (a name that answers a public
//! address first and a private one when the egress connects), so an [`EgressRequest`]
//! carries the policy and the local egress checks each output again right before connecting.
//!
//! [`EgressRequest`]: crate::egress::EgressRequest

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use ipnet::IpNet;

use crate::error::{Error, Result};
use crate::platform::ingest_endpoint;

/// Name suffixes that belong to a local network.
const LOCAL_SUFFIXES: [&str; 10] = [
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "private",
    "corp",
    "home",
    "lan",
    "home.arpa",
];

/// IPv4 networks a caller's stream may not reach.
const FORBIDDEN_V4: [&str; 12] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
];

/// IPv6 networks a caller's stream may not reach (embedded IPv4 is checked separately).
const FORBIDDEN_V6: [&str; 7] = [
    "::/128",
    "::1/128",
    "100::/64",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// Why a destination was refused. Its text says what failed, never the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The host is, or resolves to, an address of a kind the policy refuses.
    Forbidden(&'static str),
    /// The host name did not resolve.
    Unresolvable,
    /// The URL has no host this policy can read.
    NoHost,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Forbidden(kind) => write!(
                f,
                "is refused by the destination policy: the host is {kind}; only internal \
                 callers and hosts on the operator's allowlist may use such addresses"
            ),
            Refusal::Unresolvable => f.write_str("names a host that could not be resolved"),
            Refusal::NoHost => f.write_str("has no host"),
        }
    }
}

impl Refusal {
    /// The refusal as an `INVALID_INPUT` error naming `field`.
    pub fn into_error(self, field: &str) -> Error {
        Error::invalid(field, self.to_string())
    }
}

/// Resolves host names to addresses; the default is the system resolver.
#[async_trait]
pub trait Resolve: Send + Sync + fmt::Debug {
    /// Every address `host` resolves to (empty or an error when it does not resolve).
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolve for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// One allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// This host name exactly (lower case, no trailing dot).
    Host(String),
    /// Names ending in `.suffix`.
    Suffix(String),
    /// Addresses in this network.
    Net(IpNet),
}

/// Where callers that are not internal may stream to; see the [module docs](self).
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct DestinationPolicy {
    unrestricted: bool,
    allowed: Arc<Vec<Allowed>>,
    resolver: Arc<dyn Resolve>,
}

impl Default for DestinationPolicy {
    fn default() -> Self {
        Self::public_only()
    }
}

/// A checked endpoint: where the output may connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEndpoint {
    /// The addresses the host resolved to, all allowed. Empty when the host is allowed by
    /// name (an allowlisted name is trusted whatever it resolves to).
    pub addrs: Vec<SocketAddr>,
}

impl DestinationPolicy {
    /// Public addresses only, resolved by the system resolver.
    pub fn public_only() -> Self {
        Self {
            unrestricted: false,
            allowed: Arc::new(Vec::new()),
            resolver: Arc::new(SystemResolver),
        }
    }

    /// Everything allowed, nothing looked up: for development machines
    /// ([`crate::config::ConfigMode::Development`]), where streams go to local servers.
    pub fn unrestricted() -> Self {
        Self {
            unrestricted: true,
            ..Self::public_only()
        }
    }

    /// Also allows `rule`: a host name (`rtmp.corp`), a suffix (`*.corp`), an IP address
    /// or a CIDR network (`10.0.0.0/8`). The error names `destinationAllowlist`.
    pub fn allow(mut self, rule: &str) -> Result<Self> {
        let rule = rule.trim().to_ascii_lowercase();
        let bad = || {
            Error::invalid(
                "destinationAllowlist",
                "entries must be host names, *.suffixes, IP addresses or CIDR networks",
            )
        };
        let entry = if let Ok(net) = rule.parse::<IpNet>() {
            Allowed::Net(net)
        } else if let Ok(ip) = rule.trim_matches(['[', ']']).parse::<IpAddr>() {
            Allowed::Net(IpNet::from(ip))
        } else if let Some(suffix) = rule.strip_prefix("*.") {
            if !is_name(suffix) {
                return Err(bad());
            }
            Allowed::Suffix(suffix.trim_end_matches('.').to_owned())
        } else if is_name(&rule) {
            Allowed::Host(rule.trim_end_matches('.').to_owned())
        } else {
            return Err(bad());
        };
        Arc::make_mut(&mut self.allowed).push(entry);
        Ok(self)
    }

    /// Allows each entry of `rules` (see [`allow`](Self::allow)).
    pub fn allow_all<'a>(self, rules: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        rules.into_iter().try_fold(self, Self::allow)
    }

    /// Uses `resolver` for host names (tests use a fixed table).
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Checks the endpoint of an RTMP(S) URL (which may carry a key; it is not kept).
    pub async fn check_url(&self, url: &str) -> std::result::Result<CheckedEndpoint, Refusal> {
        let endpoint = ingest_endpoint(url).ok_or(Refusal::NoHost)?;
        self.check_host(&endpoint.host, endpoint.port).await
    }

    /// Checks `host` (a name or an IP literal in any form) and, for names, every address it
    /// resolves to.
    pub async fn check_host(
        &self,
        host: &str,
        port: u16,
    ) -> std::result::Result<CheckedEndpoint, Refusal> {
        if self.unrestricted {
            return Ok(CheckedEndpoint { addrs: Vec::new() });
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(ip) = ip_literal(&host) {
            self.check_ip(ip)?;
            return Ok(CheckedEndpoint {
                addrs: vec![SocketAddr::new(ip, port)],
            });
        }
        if self.allows_name(&host) {
            return Ok(CheckedEndpoint { addrs: Vec::new() });
        }
        if is_local_name(&host) {
            return Err(Refusal::Forbidden("a name of the local network"));
        }
        let addrs = self
            .resolver
            .resolve(&host, port)
            .await
            .map_err(|_| Refusal::Unresolvable)?;
        if addrs.is_empty() {
            return Err(Refusal::Unresolvable);
        }
        for addr in &addrs {
            self.check_ip(addr.ip())?;
        }
        Ok(CheckedEndpoint { addrs })
    }

    /// Checks one address (allowlisted networks pass).
    pub fn check_ip(&self, ip: IpAddr) -> std::result::Result<(), Refusal> {
        if self.unrestricted
            || self
                .allowed
                .iter()
                .any(|a| matches!(a, Allowed::Net(net) if net.contains(&ip)))
        {
            return Ok(());
        }
        match forbidden_kind(ip) {
            Some(kind) => Err(Refusal::Forbidden(kind)),
            None => Ok(()),
        }
    }

    fn allows_name(&self, host: &str) -> bool {
        self.allowed.iter().any(|a| match a {
            Allowed::Host(h) => h == host,
            Allowed::Suffix(s) => host
                .strip_suffix(s.as_str())
                .is_some_and(|head| head.ends_with('.')),
            Allowed::Net(_) => false,
        })
    }
}

/// What kind of forbidden address `ip` is, if it is one.
fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return forbidden_v4(v4);
            }
            let ip = IpAddr::V6(v6);
            FORBIDDEN_V6
                .iter()
                .any(|net| net.parse::<IpNet>().is_ok_and(|n| n.contains(&ip)))
                .then(|| v6_kind(v6))
        }
    }
}

fn forbidden_v4(v4: Ipv4Addr) -> Option<&'static str> {
    let ip = IpAddr::V4(v4);
    let forbidden = FORBIDDEN_V4
        .iter()
        .any(|net| net.parse::<IpNet>().is_ok_and(|n| n.contains(&ip)));
    if !forbidden {
        return None;
    }
    Some(if v4.is_loopback() {
        "a loopback address"
    } else if v4.is_private() || v4.octets()[0] == 100 {
        "a private address"
    } else if v4.is_link_local() {
        "a link-local address"
    } else if v4.is_multicast() {
        "a multicast address"
    } else if v4.octets()[0] == 0 {
        "an unspecified address"
    } else {
        "a reserved address"
    })
}

fn v6_kind(v6: Ipv6Addr) -> &'static str {
    if v6.is_loopback() {
        "a loopback address"
    } else if v6.is_unspecified() {
        "an unspecified address"
    } else if v6.is_multicast() {
        "a multicast address"
    } else if v6.is_unique_local() {
        "a unique-local address"
    } else if v6.is_unicast_link_local() {
        "a link-local address"
    } else {
        "a reserved address"
    }
}

/// The IPv4 address carried by an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 address.
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(low); // IPv4-compatible (::a.b.c.d, deprecated)
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low); // NAT64 well-known prefix
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        )); // 6to4
    }
    None
}

/// An IP literal in any form the system resolver reads as one: IPv6, or IPv4 as
/// `inet_aton` parses it (1–4 parts, each decimal, `0x` hex or `0` octal; the last part
/// fills the remaining bytes).
fn ip_literal(host: &str) -> Option<IpAddr> {
    if let Ok(v6) = host.trim_matches(['[', ']']).parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    let parts: Vec<u64> = host
        .split('.')
        .map(parse_aton_part)
        .collect::<Option<_>>()?;
    let (last, init) = parts.split_last()?;
    if init.len() > 3 || init.iter().any(|&p| p > 0xff) {
        return None;
    }
    let last_bits = 8 * (4 - init.len() as u32);
    if *last >= 1u64 << last_bits {
        return None;
    }
    let value = init
        .iter()
        .fold(0u64, |acc, &p| (acc << 8) | p)
        .checked_shl(last_bits)?
        | last;
    u32::try_from(value)
        .ok()
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

/// One `inet_aton` part: decimal, `0x` hexadecimal or leading-`0` octal.
fn parse_aton_part(part: &str) -> Option<u64> {
    if part.is_empty() || part.len() > 12 {
        return None;
    }
    if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        return if hex.is_empty() {
            Some(0)
        } else {
            u64::from_str_radix(hex, 16).ok()
        };
    }
    if part.len() > 1 && part.starts_with('0') {
        return u64::from_str_radix(&part[1..], 8).ok();
    }
    part.parse().ok()
}

/// Single-label names (resolved through the local search domains) and names under a
/// local-network suffix.
fn is_local_name(host: &str) -> bool {
    !host.contains('.')
        || LOCAL_SUFFIXES.iter().any(|suffix| {
            host.strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.'))
        })
}

fn is_name(s: &str) -> bool {
    let name = s.trim_end_matches('.');
    !name.is_empty()
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    #[test]
    fn ipv4_literals_are_read_as_the_system_resolver_reads_them() {
        for (literal, ip) in [
            ("127.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("10.1", "10.0.0.1"),
            ("0", "0.0.0.0"),
            ("3232235777", "192.168.1.1"),
        ] {
            assert_eq!(ip_literal(literal), Some(v4(ip)), "{literal}");
        }
        for name in [
            "live.twitch.tv",
            "1.2.3.4.5",
            "256.1.1.1",
            "4294967296",
            "08.1.1.1",
        ] {
            assert_eq!(ip_literal(name), None, "{name}");
        }
    }

    #[test]
    fn internal_addresses_of_every_kind_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.5",
            "192.168.0.10",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(forbidden_kind(ip).is_some(), "{ip} should be forbidden");
        }
        for ip in [
            "8.8.8.8",
            "203.0.113.7",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_kind(ip), None, "{ip} should be allowed");
        }
    }
}

//! Whether a host or an origin is this machine's (loopback) one.

use std::net::{Ipv4Addr, Ipv6Addr};

/// `http(s)://<loopback host>[:port]`.
pub(crate) fn is_loopback_origin(origin: &str) -> bool {
    let lower = origin.to_ascii_lowercase();
    lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .is_some_and(|rest| !rest.contains('/') && is_loopback_host(rest))
}

/// `localhost`, `<name>.localhost`, an address in 127.0.0.0/8 or `[::1]`, with an optional port.
pub(crate) fn is_loopback_host(host_port: &str) -> bool {
    let port_ok = |port: &str| port.is_empty() || port.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = host_port.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        let port = match after.strip_prefix(':') {
            Some(port) => port,
            None if after.is_empty() => "",
            None => return false,
        };
        return port_ok(port) && ip.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, ""));
    if !port_ok(port) {
        return false;
    }
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let name_ok = host == "localhost"
        || host.strip_suffix(".localhost").is_some_and(|name| {
            !name.is_empty()
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        });
    name_ok || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

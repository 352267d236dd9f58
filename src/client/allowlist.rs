//! Where the signer may send credentials: the base URL's scheme, host and port, and the hosts
//! allowed besides it. A request anywhere else is refused (or sent unsigned, if so configured),
//! so that a secret or token never reaches a host it was not meant for.

use http::Uri;

use super::error::ConfigError;

/// One allowed destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AllowedHost {
    /// Lowercase scheme, when the entry came from a base URL.
    pub(super) scheme: Option<String>,
    /// Lowercase host (IPv6 in brackets).
    pub(super) host: String,
    /// The port; `None` means the default port of the request's scheme.
    pub(super) port: Option<u16>,
}

impl AllowedHost {
    pub(super) fn matches(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        if let Some(s) = &self.scheme
            && !s.eq_ignore_ascii_case(scheme)
        {
            return false;
        }
        let effective = port.or_else(|| default_port(scheme));
        let wanted = self.port.or_else(|| default_port(scheme));
        self.host.eq_ignore_ascii_case(host) && effective.is_some() && effective == wanted
    }
}

pub(super) fn default_port(scheme: &str) -> Option<u16> {
    if scheme.eq_ignore_ascii_case("https") {
        Some(443)
    } else if scheme.eq_ignore_ascii_case("http") {
        Some(80)
    } else {
        None
    }
}

/// A base URL as the signer keeps it: a bare host (`myapp.janraincapture.com`, no `://`) gets
/// `https://`, as Janrain's own clients give it; anything else is left as it is.
pub(super) fn with_default_scheme(url: String) -> String {
    if url.contains("://") || url.is_empty() {
        url
    } else {
        format!("https://{url}")
    }
}

pub(super) fn parse_base_url(url: &str) -> Result<(AllowedHost, String), ConfigError> {
    let bad = |reason| ConfigError::BaseUrl {
        url: url.to_owned(),
        reason,
    };
    if url.contains('#') {
        return Err(bad("it has a fragment"));
    }
    let uri: Uri = url.parse().map_err(|_| bad("it does not parse as a URI"))?;
    let scheme = uri.scheme_str().ok_or(bad("it has no scheme"))?;
    if default_port(scheme).is_none() {
        return Err(bad("the scheme is not http or https"));
    }
    let authority = uri.authority().ok_or(bad("it has no host"))?;
    if authority.as_str().contains('@') {
        return Err(bad("it carries user information"));
    }
    if uri.query().is_some() {
        return Err(bad("it has a query"));
    }
    let host = AllowedHost {
        scheme: Some(scheme.to_ascii_lowercase()),
        host: authority.host().to_ascii_lowercase(),
        port: authority.port_u16().or_else(|| default_port(scheme)),
    };
    Ok((host, uri.path().to_owned()))
}

pub(super) fn parse_host(h: &str) -> Result<AllowedHost, ConfigError> {
    let bad = || ConfigError::Host { host: h.to_owned() };
    if h.is_empty() || h.contains(['@', '/', '?', '#']) {
        return Err(bad());
    }
    let authority: http::uri::Authority = h.parse().map_err(|_| bad())?;
    if authority.host().is_empty() {
        return Err(bad());
    }
    Ok(AllowedHost {
        scheme: None,
        host: authority.host().to_ascii_lowercase(),
        port: authority.port_u16(),
    })
}

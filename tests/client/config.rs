//! The signer's configuration: base URLs, prefixes, allowed hosts, and the errors that say what
//! is wrong. No network.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use janrain_auth::client::{ConfigError, RequestSigner, SignError, SignOutcome, UnlistedHost};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::scheme::{Datetime, ManualClock};

fn api() -> ApiClient {
    ApiClient::new(ClientId::new("c").unwrap(), ClientSecret::new("s").unwrap())
}

fn sign(signer: &RequestSigner, url: &str) -> Result<SignOutcome, SignError> {
    let mut request = Request::post(url).body(Full::<Bytes>::default()).unwrap();
    signer.sign_http(&mut request)
}

#[test]
fn base_urls() {
    // A bare host means https:// on it, as in Janrain's own clients.
    for (bare, url) in [
        (
            "myapp.janraincapture.com",
            "https://myapp.janraincapture.com",
        ),
        ("127.0.0.1:8443/capture", "https://127.0.0.1:8443/capture"),
    ] {
        let signer = RequestSigner::builder(api())
            .base_url(bare)
            .build()
            .unwrap();
        assert_eq!(signer.base_url(), Some(url));
    }
    let signer = RequestSigner::builder(api())
        .base_url("myapp.janraincapture.com")
        .build()
        .unwrap();
    assert!(signer.host_allowed("https", "myapp.janraincapture.com", None));
    assert!(!signer.host_allowed("http", "myapp.janraincapture.com", None));
    for bad in [
        "ftp://myapp.janraincapture.com",
        "https://myapp.janraincapture.com/?x=1",
        "https://myapp.janraincapture.com/#x",
        "https://user:pw@myapp.janraincapture.com/",
        "not a url",
    ] {
        let err = RequestSigner::builder(api())
            .base_url(bad)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::BaseUrl { .. }), "{bad}: {err}");
        assert!(!err.to_string().contains("pw@") || bad.contains("pw@"));
    }
    assert_eq!(
        RequestSigner::builder(api()).build().unwrap_err(),
        ConfigError::NoHosts
    );
    for bad in ["", "https://h", "h/path", "user@h"] {
        let err = RequestSigner::builder(api())
            .allow_host(bad)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Host { .. }), "{bad:?}: {err}");
    }
}

#[test]
fn prefixes() {
    let cases = [
        ("https://h.example", None),
        ("https://h.example/", None),
        ("https://h.example/capture", Some("/capture")),
        ("https://h.example/capture/", Some("/capture")),
        ("https://h.example/a/b//", Some("/a/b")),
    ];
    for (url, prefix) in cases {
        let signer = RequestSigner::builder(api()).base_url(url).build().unwrap();
        assert_eq!(signer.path_prefix(), prefix, "{url}");
    }
    let signer = RequestSigner::builder(api())
        .base_url("https://h.example/capture/")
        .build()
        .unwrap();
    assert_eq!(
        signer.endpoint("/capture/entity.find").unwrap(),
        "/entity.find"
    );
    assert_eq!(signer.endpoint("/capture").unwrap(), "/");
    assert_eq!(signer.endpoint("/capture/").unwrap(), "/");
    assert_eq!(
        signer.endpoint("/capture/a/").unwrap(),
        "/a/",
        "the request's own slash is kept"
    );
    assert!(matches!(
        signer.endpoint("/captures/x"),
        Err(SignError::PathOutsidePrefix { .. })
    ));
    assert!(matches!(
        signer.endpoint("/entity.find"),
        Err(SignError::PathOutsidePrefix { .. })
    ));
    // An explicit prefix overrides the base URL's path; "" removes it.
    let full = RequestSigner::builder(api())
        .base_url("https://h.example/capture/")
        .path_prefix("")
        .build()
        .unwrap();
    assert_eq!(
        full.endpoint("/capture/entity.find").unwrap(),
        "/capture/entity.find"
    );
    let explicit = RequestSigner::builder(api())
        .allow_any_host()
        .path_prefix("api/v1/")
        .build()
        .unwrap();
    assert_eq!(explicit.path_prefix(), Some("/api/v1"));
}

#[test]
fn hosts() {
    let signer = RequestSigner::builder(api())
        .base_url("https://myapp.janraincapture.com")
        .allow_host("other.example")
        .allow_host("127.0.0.1:8080")
        .allow_host("[::1]:9000")
        .build()
        .unwrap();
    let ok = [
        "https://myapp.janraincapture.com/entity",
        "https://MYAPP.janraincapture.com:443/entity",
        "https://other.example/x",
        "http://other.example/x",
        "http://127.0.0.1:8080/x",
        "https://127.0.0.1:8080/x",
        "http://[::1]:9000/x",
    ];
    for url in ok {
        assert_eq!(sign(&signer, url).unwrap(), SignOutcome::Signed, "{url}");
    }
    let refused = [
        "http://myapp.janraincapture.com/entity",
        "https://myapp.janraincapture.com:8443/entity",
        "https://evil.myapp.janraincapture.com/entity",
        "https://myapp.janraincapture.com.evil.example/entity",
        "https://other.example:8443/x",
        "http://127.0.0.1/x",
        "http://[::1]/x",
    ];
    for url in refused {
        let err = sign(&signer, url).unwrap_err();
        assert!(
            matches!(err, SignError::HostNotAllowed { .. }),
            "{url}: {err}"
        );
    }
    let passthrough = RequestSigner::builder(api())
        .base_url("https://myapp.janraincapture.com")
        .unlisted_host(UnlistedHost::SendUnsigned)
        .build()
        .unwrap();
    let mut request = Request::get("https://elsewhere.example/")
        .body(Full::<Bytes>::default())
        .unwrap();
    assert_eq!(
        passthrough.sign_http(&mut request).unwrap(),
        SignOutcome::SentUnsigned
    );
    assert!(request.headers().is_empty());
    let any = RequestSigner::builder(api())
        .allow_any_host()
        .build()
        .unwrap();
    assert_eq!(
        sign(&any, "/relative/is/fine").unwrap(),
        SignOutcome::Signed
    );
}

#[test]
fn clock_offset_applies_to_the_date() {
    let clock = ManualClock::at("2021-03-04 05:06:07".parse().unwrap());
    let signer = RequestSigner::builder(api())
        .allow_any_host()
        .clock(clock)
        .build()
        .unwrap();
    let learned = signer
        .learn_server_date("2021-03-04 05:00:00".parse().unwrap())
        .unwrap();
    assert_eq!(learned, -367);
    let clone = signer.clone();
    assert_eq!(clone.clock_offset(), -367, "clones share the offset");
    let mut request = Request::get("http://h/x")
        .body(Full::<Bytes>::default())
        .unwrap();
    clone.sign_http(&mut request).unwrap();
    assert_eq!(request.headers()["date"], "2021-03-04 05:00:00");
    signer.set_clock_offset(0);
    assert_eq!(
        clone.now().unwrap(),
        "2021-03-04 05:06:07".parse::<Datetime>().unwrap()
    );
}

/// Form detection follows the media type, whatever its case and parameters.
#[test]
fn form_bodies_by_media_type() {
    let clock = ManualClock::at("2000-01-01 01:01:01".parse().unwrap());
    let signer = RequestSigner::builder(ApiClient::new(
        ClientId::new("foo").unwrap(),
        ClientSecret::new("bar").unwrap(),
    ))
    .allow_any_host()
    .clock(clock)
    .build()
    .unwrap();
    let body = "param1=this+is+a+string&param2=10&param3=one%3D1%0Atwo%3D2%2Cthree%3D3";
    for content_type in [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
    ] {
        let mut request = Request::post("http://h/entity")
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        signer.sign_http(&mut request).unwrap();
        assert_eq!(
            request.headers()["authorization"],
            "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY="
        );
    }
    // The same bytes as a JSON body are no parameters.
    let mut request = Request::post("http://h/entity")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    signer.sign_http(&mut request).unwrap();
    assert_ne!(
        request.headers()["authorization"],
        "Signature foo:G3N5RxCVc0d6rDLmBRGvcg2hCVY="
    );
}

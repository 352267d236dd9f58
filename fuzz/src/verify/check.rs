//! What every answer must look like, whatever the request: the invariants, and an independent
//! re-check of every accepted request. Also the optional tally of outcomes.

use super::*;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Accepted, for this client (None: no authentication), with this method.
    Accept(Option<String>, &'static str),
    /// Refused with this code.
    Refuse(u16),
}

/// Check the invariants every answer must satisfy; returns what happened.
pub(crate) fn check_answer(config: Config, answer: &Answer, sent_body: Option<&[u8]>) -> Expect {
    let w = world();
    assert!(
        answer.status.as_u16() < 500,
        "5xx answer: {} {:?}",
        answer.status,
        answer.body
    );
    if answer.headers.contains_key("x-inner") {
        let seen = answer.seen.as_ref().expect("the handler ran");
        let uri = seen.uri.as_ref().unwrap();
        let path = percent_decoded(uri.path());
        let op = w
            .catalog
            .get(&path)
            .unwrap_or_else(|| panic!("accepted an unknown path {}", uri.path()));
        if let (Some(sent), Some(got)) = (sent_body, &seen.body) {
            assert_eq!(
                got.as_slice(),
                sent,
                "the handler did not get the body as sent"
            );
        }
        return match &seen.client {
            None => {
                assert!(
                    op.accepts(AuthMethod::None),
                    "unauthenticated request accepted for {}",
                    op.path()
                );
                assert!(!seen.headers.contains_key(AUTHORIZATION));
                let pairs = handed_on(seen);
                assert_eq!(
                    principal_outcome("none", None, None, &pairs),
                    None,
                    "an open operation handed on parameters that disagree with no one acting: {pairs:?}"
                );
                Expect::Accept(None, "none")
            }
            Some(client) => {
                // An open operation takes any valid credentials, whatever the features; a
                // user's token reaches that user's record whatever its client's features.
                let open = op.accepts(AuthMethod::None);
                assert!(
                    open || client.method() == AuthMethod::OAuth || op.permits(client.features()),
                    "client without the features accepted"
                );
                assert!(open || op.accepts(client.method()));
                let method = client.method().as_str();
                recheck(config, op, client, seen);
                let pairs = handed_on(seen);
                assert_eq!(
                    principal_outcome(
                        method,
                        Some(client.client_id().as_str()),
                        client.user(),
                        &pairs
                    ),
                    None,
                    "the handler got parameters that disagree with who acts ({method}, user {:?}): {pairs:?}",
                    client.user()
                );
                Expect::Accept(Some(client.client_id().to_string()), method)
            }
        };
    }
    // A refusal.
    assert!(
        answer.seen.is_none(),
        "the handler ran but its answer was replaced"
    );
    assert_eq!(answer.headers[CONTENT_TYPE], "application/json");
    let error = JanrainError::from_body(&answer.body)
        .unwrap_or_else(|| panic!("refusal is not a Janrain envelope: {:?}", answer.body));
    let row = TABLE
        .iter()
        .find(|(code, _, _)| *code == error.code)
        .unwrap_or_else(|| panic!("undocumented code {}", error.code));
    assert_eq!(error.error, row.1, "code and error name disagree");
    let status = if config.janrain_status { 200 } else { row.2 };
    assert_eq!(
        answer.status.as_u16(),
        status,
        "status for code {}",
        error.code
    );
    let id = error.request_id.as_deref().expect("request_id");
    assert!(
        id.len() == 16
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );
    assert!(!error.error_description.is_empty());
    let date = answer.headers[DATE].to_str().unwrap();
    let date = httpdate::parse_http_date(date).expect("an HTTP date");
    assert_eq!(Datetime::from_system_time(date), Ok(w.now));
    if answer.status == StatusCode::UNAUTHORIZED {
        assert!(
            answer.headers.contains_key(WWW_AUTHENTICATE),
            "401 without a challenge"
        );
    }
    // A refusal never repeats a secret or a token, wherever the request carried it; but the
    // path, which a 404 names (it is decided before any credential is read), is the request's
    // own text, as any access log keeps it.
    let text = String::from_utf8_lossy(&answer.body);
    let text = if error.code == 404 {
        std::borrow::Cow::Owned(error.error.clone())
    } else {
        text
    };
    for client in &w.clients {
        for secret in &client.secrets {
            assert!(!text.contains(secret.as_str()), "a secret in a refusal");
        }
    }
    for grant in &w.grants {
        assert!(
            !text.contains(grant.token.as_str()),
            "an access token in a refusal"
        );
    }
    Expect::Refuse(error.code)
}

/// Re-check an accepted, authenticated request independently of the layer.
pub(crate) fn recheck(config: Config, op: &Operation, client: &AuthenticatedClient, seen: &Seen) {
    let w = world();
    let model = w
        .clients
        .iter()
        .find(|c| c.id == client.client_id().as_str())
        .expect("a demo client");
    match client.method() {
        AuthMethod::Signature => {
            let header = seen.headers[AUTHORIZATION].as_bytes();
            let Ok(Authorization::Signature(creds)) = Authorization::parse(header) else {
                panic!("accepted as signed without Signature credentials");
            };
            assert_eq!(creds.client_id(), model.id);
            let date = seen.headers[DATE].to_str().unwrap();
            let dt: Datetime = date.parse().expect("accepted an invalid Date");
            let age = w.now.unix_seconds() - dt.unix_seconds();
            assert!(
                config.window.admits(age),
                "accepted a Date outside the window"
            );
            let uri = seen.uri.as_ref().unwrap();
            let mut params = ParamList::with_limit(usize::MAX);
            if let Some(q) = uri.query() {
                params.extend_urlencoded(q.as_bytes()).unwrap();
            }
            let is_form = seen
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(FORM));
            if is_form {
                params
                    .extend_urlencoded(seen.body.as_deref().expect("the form body"))
                    .unwrap();
            }
            let forms: &[Canonicalization] = if config.lenient_forms {
                &[Canonicalization::CANONICAL, Canonicalization::SAMPLE_CODE]
            } else {
                &[Canonicalization::CANONICAL]
            };
            let sts = StringToSign::new(uri.path(), date, &params);
            let ok = model.secrets.iter().any(|s| {
                forms.iter().any(|f| {
                    SigningKey::new(s).sign(&sts.with_form(*f)).as_str() == creds.signature()
                })
            });
            assert!(ok, "accepted a signature that does not verify");
        }
        AuthMethod::Basic => {
            let header = seen.headers[AUTHORIZATION].as_bytes();
            let Ok(Authorization::Basic(creds)) = Authorization::parse(header) else {
                panic!("accepted as Basic without Basic credentials");
            };
            assert_eq!(creds.client_id().as_str(), model.id);
            assert!(
                model.secrets.iter().any(|s| s == creds.secret().expose()),
                "wrong Basic secret accepted"
            );
        }
        AuthMethod::LoginClient => {
            assert!(!seen.headers.contains_key(AUTHORIZATION));
            assert!(
                model
                    .features
                    .contains(janrain_auth::permissions::Feature::LoginClient)
            );
            assert_eq!(client.user(), None, "a login client without a token acts for a user");
        }
        AuthMethod::LoginClientWithToken => {
            assert!(!seen.headers.contains_key(AUTHORIZATION));
            let pairs = handed_on(seen);
            let token = pairs
                .iter()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.as_str())
                .expect("a login client's token");
            let grant = w.grants.iter().find(|g| g.token == token).expect("a grant");
            assert_eq!(grant.client_id, model.id, "a token of another client");
            assert!(grant.expires_at > w.now, "an expired token");
            assert_eq!(client.user(), grant.uuid.as_deref(), "not the token's user");
        }
        AuthMethod::OAuth => {
            let pairs = handed_on(seen);
            let token = match seen.headers.get(AUTHORIZATION) {
                Some(value) => {
                    let value = value.to_str().expect("an OAuth header is text");
                    value[6..].trim_matches(' ').to_owned()
                }
                None => pairs
                    .iter()
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v.clone())
                    .expect("a user's token"),
            };
            let grant = w.grants.iter().find(|g| g.token == token).expect("a grant");
            assert_eq!(grant.client_id, model.id, "the token's client does not act");
            assert!(grant.expires_at > w.now, "an expired token");
            assert!(grant.uuid.is_some(), "a token for no user acts for one");
            assert_eq!(client.user(), grant.uuid.as_deref(), "not the token's user");
            assert!(op.accepts(AuthMethod::OAuth) || op.accepts(AuthMethod::None));
        }
        other => panic!("unexpected method {other:?}"),
    }
    let _ = op;
}

/// The parameters the handler got, as text pairs in request order.
pub(crate) fn handed_on(seen: &Seen) -> Vec<(String, String)> {
    let params = seen.params.as_ref().expect("verified parameters");
    params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// `path` with its `%XX` escapes decoded where that gives text (a router's reading).
pub(crate) fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// With `VERIFY_FUZZ_STATS=1`, how often each (kind, outcome) was seen is printed now and
/// then: a check that the inputs reach every branch of the procedure.
pub(crate) fn tally(kind: &'static str, outcome: &Expect) {
    use std::collections::BTreeMap;
    static ON: OnceLock<bool> = OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("VERIFY_FUZZ_STATS").is_some()) {
        return;
    }
    static COUNTS: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());
    static TOTAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let label = match outcome {
        Expect::Accept(_, method) => format!("{kind} accepted ({method})"),
        Expect::Refuse(code) => format!("{kind} refused {code}"),
    };
    *COUNTS.lock().unwrap().entry(label).or_default() += 1;
    let n = TOTAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if n.is_power_of_two() && n >= 1024 {
        eprintln!("after {n} requests: {:?}", COUNTS.lock().unwrap());
    }
}

//! The in-memory stores and the clients file.

use super::*;

const FILE: &str = r#"{
    "clients": [
        {"client_id": "login", "secrets": ["s"], "features": ["login_client"]},
        {"client_id": "other", "secrets": ["t"], "features": ["login_client"]}
    ],
    "tokens": [
        {"access_token": "tok", "client_id": "login", "uuid": "u-1", "expires_at": "2030-01-01 00:00:00"},
        {"access_token": "tok2", "client_id": "other", "expires_at": "2030-01-01 00:00:00"}
    ]
}"#;

#[test]
fn loads_clients_and_tokens() {
    let (store, tokens) = ClientsFile::from_json(FILE).unwrap().into_parts();
    assert_eq!(store.len(), 2);
    let login = ClientId::new("login").unwrap();
    let before: Datetime = "2029-12-31 23:59:59".parse().unwrap();
    let after: Datetime = "2030-01-01 00:00:00".parse().unwrap();
    let record = tokens.get("tok").unwrap();
    assert_eq!(record.client_id, login);
    assert_eq!(record.uuid.as_deref(), Some("u-1"));
    assert!(!record.is_expired_at(before.to_system_time()));
    assert!(record.is_expired_at(after.to_system_time()));
    assert!(tokens.get("tok2").unwrap().uuid.is_none());
    assert!(tokens.get("nope").is_none());
    assert!(!format!("{tokens:?}").contains("tok\""));
}

#[test]
fn memory_tokens_answer_at_once() {
    let (_, tokens) = ClientsFile::from_json(FILE).unwrap().into_parts();
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let mut found = tokens.lookup("tok");
    match Pin::new(&mut found).poll(&mut cx) {
        Poll::Ready(Ok(Some(record))) => assert_eq!(record.client_id.as_str(), "login"),
        other => panic!("{other:?}"),
    }
    let mut missing = tokens.lookup("nope");
    assert!(matches!(
        Pin::new(&mut missing).poll(&mut cx),
        Poll::Ready(Ok(None))
    ));
}

#[test]
fn refuses_bad_files() {
    let bad_token = r#"{"clients": [], "tokens": [{"access_token": "t", "client_id": "ghost", "expires_at": "2030-01-01 00:00:00"}]}"#;
    assert!(matches!(
        ClientsFile::from_json(bad_token),
        Err(LoadError::UnknownTokenClient { index: 0, .. })
    ));
    let bad_date = r#"{"clients": [], "tokens": [{"access_token": "t", "client_id": "c", "expires_at": "tomorrow"}]}"#;
    let err = ClientsFile::from_json(bad_date).unwrap_err().to_string();
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    assert!(ClientsFile::from_json(r#"{"clients": [], "extra": 1}"#).is_err());
    assert!(matches!(
        ClientsFile::load("/nonexistent/clients.json"),
        Err(LoadError::Io { .. })
    ));
}

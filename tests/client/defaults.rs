//! What every `JanrainClient` call does unasked, as Janrain's Python client does it: a
//! `User-Agent`, gzip asked for and read, `https://` on a bare host, a named error for
//! `https://` without TLS; legacy form credentials; `()` as the answer of calls that answer
//! only `{"stat":"ok"}`; and a client built from the Janrain config file.

use janrain_auth::client::config::{ConfigFile, CredentialLookup, CredentialSource};
use janrain_auth::client::{AuthMode, Error, JanrainClient, RequestSigner, SignError, USER_AGENT};
use janrain_auth::credentials::{ApiClient, ClientSecret};
use serde_json::{Value, json};

use crate::wire::start;

fn client(id: &str, secret: &str, base: &str, mode: AuthMode) -> JanrainClient {
    let api = ApiClient::new(id.parse().unwrap(), ClientSecret::new(secret).unwrap());
    let signer = RequestSigner::builder(api)
        .mode(mode)
        .base_url(base)
        .build()
        .unwrap();
    JanrainClient::new(signer).unwrap()
}

#[tokio::test]
async fn user_agent_and_gzip() {
    let server = start().await;
    let janrain = client(
        "reader_client",
        "reader-secret-6e0f2b",
        &server.base,
        AuthMode::Signature,
    );
    let answer: Value = janrain
        .call("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(answer["params"], json!({"type_name": "user"}));
    let wire = server.only();
    assert_eq!(
        USER_AGENT,
        concat!("janrain-auth/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(wire.user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(wire.accept_encoding.as_deref(), Some("gzip"));
    // The answer went out compressed and was read all the same.
    assert_eq!(wire.answer_encoding.as_deref(), Some("gzip"));
}

#[tokio::test]
async fn unit_takes_any_success_answer() {
    let server = start().await;
    let janrain = client(
        "direct_client",
        "direct-secret-1d8c3a",
        &server.base,
        AuthMode::Signature,
    );
    let params = json!({"type_name": "user", "uuid": "u1", "value": {"givenName": "Zoë"}});
    janrain
        .call::<_, ()>("entity.update", &params)
        .await
        .unwrap();
    #[derive(serde::Deserialize, Debug)]
    struct Done;
    janrain
        .call::<_, Done>("entity.delete", &params)
        .await
        .unwrap();
    // A refusal is still an error.
    let reader = client(
        "reader_client",
        "reader-secret-6e0f2b",
        &server.base,
        AuthMode::Signature,
    );
    let err = reader
        .call::<_, ()>("entity.update", &params)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(403));
}

#[tokio::test]
async fn form_credentials_are_legacy_parameters() {
    let server = start().await;
    let janrain = client(
        "direct_client",
        "direct-secret-1d8c3a",
        &server.base,
        AuthMode::FormCredentials,
    );
    let answer: Value = janrain
        .call("entity.count", &json!({"type_name": "user"}))
        .await
        .unwrap();
    assert_eq!(answer["auth"], "form_credentials");
    assert_eq!(
        answer["params"],
        json!({"type_name": "user", "client_id": "direct_client"}),
        "the secret is not handed on"
    );
    let wire = server.only();
    assert_eq!((wire.authorization, wire.date), (None, None));
    assert_eq!(
        wire.body,
        "type_name=user&client_id=direct_client&client_secret=direct-secret-1d8c3a"
    );
    // No parameters at all: still the form body, where the server reads them.
    let answer: Value = janrain.call("entity.count", &()).await.unwrap();
    assert_eq!(answer["auth"], "form_credentials");
    assert_eq!(
        server.only().body,
        "client_id=direct_client&client_secret=direct-secret-1d8c3a"
    );
    // A request that already names a client is refused before it is sent.
    let err = janrain
        .call::<_, Value>("entity.count", &json!({"client_id": "other"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Sign(SignError::RepeatedCredentialParameter { name: "client_id" })
        ),
        "{err:?}"
    );
    assert!(server.take().is_empty());
    // The secret goes only where credentials may go.
    let err = janrain
        .http()
        .post("http://127.0.0.2:9/entity.count")
        .send()
        .await
        .map_err(Error::from)
        .unwrap_err();
    assert!(
        matches!(err, Error::Sign(SignError::HostNotAllowed { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_client_from_the_config_file() {
    let server = start().await;
    let dir = std::env::temp_dir().join(format!("janrain-defaults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("janrain-config");
    std::fs::write(
        &path,
        format!(
            "clusters:\n  local:\n    apid_uri: {}\nclients:\n  reader:\n    cluster: local\n    client_id: reader_client\n    client_secret: reader-secret-6e0f2b\n",
            server.base
        ),
    )
    .unwrap();
    let credentials = CredentialLookup::new()
        .config_file(&path)
        .config_key("reader")
        .credentials()
        .unwrap();
    assert_eq!(
        credentials.source(),
        &CredentialSource::ConfigEntry("clients.reader".into())
    );
    let answer: Value = credentials
        .into_client()
        .unwrap()
        .call("entity.count", &())
        .await
        .unwrap();
    assert_eq!(answer["client_id"], "reader_client");
    let file = ConfigFile::read(&path).unwrap();
    assert_eq!(
        file.entry("reader").unwrap().apid_uri(),
        Some(server.base.as_str())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without a TLS backend in reqwest (feature `cli` brings one), an `https://` call fails at
/// once with an error that names the feature to add.
#[cfg(not(feature = "cli"))]
#[tokio::test]
async fn https_without_tls_says_which_feature_to_add() {
    // A bare host means https://; nothing listens on the port, and nothing is sent.
    let janrain = client("c", "s", "127.0.0.1:9", AuthMode::Signature);
    let err = janrain
        .call::<_, Value>("entity.count", &())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NoTls { origin } if origin == "https://127.0.0.1:9"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(r#"features = ["rustls"]"#), "{text}");
    assert!(text.contains("native-tls"), "{text}");
}

/// With TLS compiled in, the same call is an ordinary transport failure (nothing listens).
#[cfg(feature = "cli")]
#[tokio::test]
async fn https_with_tls_is_tried() {
    let janrain = client("c", "s", "127.0.0.1:9", AuthMode::Signature);
    let err = janrain
        .call::<_, Value>("entity.count", &())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

//! The config file and the lookup order, against an environment given as a map.

use std::collections::HashMap;

use super::*;

/// The Python client's own test file (`janrain/capture/test/janrain-config`, with ids this
/// crate accepts: no spaces), plus entries of the other forms.
const FILE: &str = "\
defaults:
  default_client: test-client
  unittest_client: test-client

clusters:
  dev:
    apid_uri: https://dev.example.com
    client_id: dev_client_id
    client_secret: dev client_secret

clients:
  test-client:
    apid_uri: https://test.example.com
    client_id: test_client_id
    client_secret: test client secret
  cluster-client:
    apid_uri: https://cluster.example.com
    cluster: dev
  as-written:
    client_id: 0123
    client_secret: 'quoted # not a comment'
    apid_uri: bare.example.com
  no-secret:
    client_id: lonely
    client_secret: ~
  base: &base
    client_id: base_id
    client_secret: base secret
    apid_uri: https://base.example.com
  merged:
    <<: *base
    client_id: merged_id
  listed:
    client_id: [a, b]

some:
  arbitrary:
    path:
      foo: bar
";

const PATH: &str = "/cfg/janrain-config";

fn file() -> ConfigFile {
    ConfigFile::parse(FILE, PATH).unwrap()
}

fn env(vars: &[(&str, &str)]) -> Env {
    Env::Map(
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
    )
}

/// A lookup over [`FILE`] and the variables `vars` only.
fn lookup(vars: &[(&str, &str)]) -> CredentialLookup {
    CredentialLookup {
        env: env(vars),
        ..CredentialLookup::new()
    }
    .with_file(file())
}

fn found(lookup: &CredentialLookup) -> (String, String, String, CredentialSource) {
    let c = lookup.credentials().unwrap();
    (
        c.client().id().as_str().to_owned(),
        c.client().secret().expose().to_owned(),
        c.apid_uri().to_owned(),
        c.source().clone(),
    )
}

#[test]
fn entries_by_path_and_by_name() {
    let file = file();
    let entry = file.entry("clients.test-client").unwrap();
    assert_eq!(entry.key(), "clients.test-client");
    assert_eq!(entry.client_id().unwrap().as_str(), "test_client_id");
    assert_eq!(
        entry.client_secret().unwrap().expose(),
        "test client secret"
    );
    assert_eq!(entry.apid_uri(), Some("https://test.example.com"));

    // A bare name: itself, then clients., then clusters.
    assert_eq!(
        file.entry("test-client").unwrap().key(),
        "clients.test-client"
    );
    assert_eq!(file.entry("dev").unwrap().key(), "clusters.dev");
    // Any dotted path of the file.
    let path = file.entry("some.arbitrary.path").unwrap();
    assert!(path.client_id().is_none() && path.apid_uri().is_none());
    // A dotted key is looked up as it is, nowhere else.
    let err = file.entry("clients.dev").unwrap_err();
    assert!(
        matches!(&err, LookupError::NoEntry { tried, .. } if tried == &["clients.dev"]),
        "{err}"
    );
    let text = file.entry("nobody").unwrap_err().to_string();
    assert!(
        text.contains("(looked for nobody, clients.nobody, clusters.nobody)"),
        "{text}"
    );
    assert!(
        text.contains("clients.test-client") && text.contains("clusters.dev"),
        "{text}"
    );
    assert!(text.contains(PATH), "{text}");
    // Something that is not a mapping of settings.
    assert!(matches!(
        file.entry("defaults.default_client"),
        Err(LookupError::NotAnEntry { .. })
    ));
    assert!(matches!(
        file.entry("listed"),
        Err(LookupError::NotText {
            field: "client_id",
            ..
        })
    ));
    assert_eq!(file.default_client().unwrap().key(), "clients.test-client");
}

#[test]
fn clusters_merge_into_clients_without_overriding() {
    let entry = file().entry("cluster-client").unwrap();
    assert_eq!(entry.client_id().unwrap().as_str(), "dev_client_id");
    assert_eq!(entry.client_secret().unwrap().expose(), "dev client_secret");
    // The client's own setting wins.
    assert_eq!(entry.apid_uri(), Some("https://cluster.example.com"));

    // A cluster that does not exist makes the file unusable, as in the Python client.
    let err = ConfigFile::parse("clusters: {}\nclients:\n  c:\n    cluster: nowhere\n", PATH)
        .unwrap_err();
    assert!(
        matches!(&err, LookupError::UnknownCluster { client, cluster, .. }
        if client == "c" && cluster == "nowhere"),
        "{err}"
    );
    // Without a clusters section there is nothing to merge.
    assert!(ConfigFile::parse("clients:\n  c:\n    cluster: nowhere\n", PATH).is_ok());
}

#[test]
fn values_are_text_as_written() {
    let file = file();
    let entry = file.entry("as-written").unwrap();
    assert_eq!(entry.client_id().unwrap().as_str(), "0123");
    assert_eq!(
        entry.client_secret().unwrap().expose(),
        "quoted # not a comment"
    );
    assert_eq!(entry.apid_uri(), Some("bare.example.com"));
    // `~` is no value.
    assert!(file.entry("no-secret").unwrap().client_secret().is_none());
    // `<<` merge keys, the mapping's own keys winning.
    let merged = file.entry("merged").unwrap();
    assert_eq!(merged.client_id().unwrap().as_str(), "merged_id");
    assert_eq!(merged.client_secret().unwrap().expose(), "base secret");
    // A repeated key keeps its last value; tags are read through.
    let file = ConfigFile::parse(
        "clients:\n  c:\n    client_id: first\n    client_id: !!str second\n    client_secret: \"tab\\tsecret\"\n",
        PATH,
    )
    .unwrap();
    let entry = file.entry("c").unwrap();
    assert_eq!(entry.client_id().unwrap().as_str(), "second");
    assert_eq!(entry.client_secret().unwrap().expose(), "tab\tsecret");
}

#[test]
fn bad_files_say_what_is_wrong() {
    for (yaml, wanted) in [
        ("clients: [", "not usable"),
        ("- a\n- b\n", "top level must be a mapping"),
    ] {
        let err = ConfigFile::parse(yaml, PATH).unwrap_err();
        assert!(matches!(err, LookupError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains(wanted), "{err}");
        assert!(err.to_string().contains(PATH), "{err}");
    }
    // An empty file is an empty config.
    assert!(matches!(
        ConfigFile::parse("", PATH).unwrap().entry("x"),
        Err(LookupError::NoEntry { known, .. }) if known.is_empty()
    ));
    assert!(matches!(
        ConfigFile::parse("clients: {}\n", PATH)
            .unwrap()
            .default_client(),
        Err(LookupError::NoDefaultClient { .. })
    ));
    let err = ConfigFile::read("/nonexistent/janrain-config").unwrap_err();
    assert!(matches!(err, LookupError::Read { .. }), "{err}");
    assert!(err.to_string().contains("JANRAIN_CONFIG"), "{err}");
}

#[test]
fn the_order_of_capture_api() {
    let vars = [
        (CLIENT_ID_VAR, "env_id"),
        (CLIENT_SECRET_VAR, "env secret"),
        (APID_URI_VAR, "env.example.com"),
    ];
    // 1. Given id and secret; the URL from the environment.
    let given = lookup(&vars)
        .client_id("given_id")
        .client_secret("given secret")
        .config_key("test-client")
        .default_client();
    assert_eq!(
        found(&given),
        (
            "given_id".into(),
            "given secret".into(),
            "https://env.example.com".into(),
            CredentialSource::Given
        )
    );
    // One half given is passed over: 2. the config key, its own URL.
    let keyed = lookup(&vars)
        .client_id("given_id")
        .config_key("cluster-client")
        .default_client();
    assert_eq!(
        found(&keyed),
        (
            "dev_client_id".into(),
            "dev client_secret".into(),
            "https://cluster.example.com".into(),
            CredentialSource::ConfigEntry("clients.cluster-client".into())
        )
    );
    // A given URL wins over the entry's.
    let keyed = keyed.apid_uri("http://127.0.0.1:9");
    assert_eq!(found(&keyed).2, "http://127.0.0.1:9");
    // 3. The default client.
    let default = lookup(&vars).default_client();
    assert_eq!(found(&default).0, "test_client_id");
    // 4. The environment, a bare host given https://.
    assert_eq!(
        found(&lookup(&vars)),
        (
            "env_id".into(),
            "env secret".into(),
            "https://env.example.com".into(),
            CredentialSource::Environment
        )
    );
    // An entry without a URL takes the environment's.
    let merged_no_url = CredentialLookup {
        env: env(&vars),
        ..CredentialLookup::new()
    }
    .with_file(
        ConfigFile::parse(
            "clients:\n  c:\n    client_id: i\n    client_secret: s\n",
            PATH,
        )
        .unwrap(),
    )
    .config_key("c");
    assert_eq!(found(&merged_no_url).2, "https://env.example.com");
}

#[test]
fn what_is_missing_is_named() {
    // Nothing anywhere.
    let err = lookup(&[]).credentials().unwrap_err();
    assert!(matches!(
        err,
        LookupError::NoCredentials {
            client_id_given: false,
            secret_given: false
        }
    ));
    assert!(
        err.to_string()
            .contains("CAPTURE_CLIENT_ID and CAPTURE_CLIENT_SECRET"),
        "{err}"
    );
    // Half of the pair, given or in the environment.
    let err = lookup(&[(CLIENT_SECRET_VAR, "s")])
        .client_id("i")
        .credentials()
        .unwrap_err();
    assert!(
        matches!(
            err,
            LookupError::NoCredentials {
                client_id_given: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("a client id was given without a secret"),
        "{err}"
    );
    // An entry without its secret.
    let err = lookup(&[])
        .config_key("no-secret")
        .credentials()
        .unwrap_err();
    assert!(
        matches!(&err, LookupError::MissingSetting { entry, field: "client_secret", .. }
        if entry == "clients.no-secret"),
        "{err}"
    );
    // Credentials and no URL.
    let err = lookup(&[(CLIENT_ID_VAR, "i"), (CLIENT_SECRET_VAR, "s")])
        .credentials()
        .unwrap_err();
    assert!(matches!(err, LookupError::NoUrl { entry: None }), "{err}");
    assert!(err.to_string().contains("CAPTURE_APID_URI"), "{err}");
    let no_url = ConfigFile::parse(
        "clients:\n  c:\n    client_id: i\n    client_secret: s\n",
        PATH,
    )
    .unwrap();
    let err = lookup(&[])
        .with_file(no_url)
        .config_key("c")
        .credentials()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the config entry clients.c has no apid_uri"),
        "{err}"
    );
    // Not a valid id.
    let err = lookup(&[])
        .client_id("a:b")
        .client_secret("s")
        .credentials()
        .unwrap_err();
    assert!(matches!(err, LookupError::Invalid { .. }), "{err}");
    // No home and no JANRAIN_CONFIG.
    let homeless = CredentialLookup {
        env: env(&[]),
        ..CredentialLookup::new()
    }
    .default_client();
    assert!(matches!(homeless.credentials(), Err(LookupError::NoHome)));
}

#[test]
fn the_url_alone() {
    assert_eq!(
        lookup(&[(APID_URI_VAR, "env.example.com")])
            .api_url()
            .unwrap(),
        "https://env.example.com"
    );
    // An entry's URL, whether or not it has a secret.
    assert_eq!(
        lookup(&[])
            .config_key("no-secret")
            .apid_uri("h.example")
            .api_url()
            .unwrap(),
        "https://h.example"
    );
    assert_eq!(
        lookup(&[]).config_key("as-written").api_url().unwrap(),
        "https://bare.example.com"
    );
    assert!(matches!(
        lookup(&[]).api_url(),
        Err(LookupError::NoUrl { entry: None })
    ));
}

#[test]
fn the_file_is_found_as_the_python_client_finds_it() {
    let dir = std::env::temp_dir().join(format!("janrain-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(CONFIG_FILE_NAME), FILE).unwrap();
    let other = dir.join("other.yaml");
    std::fs::write(
        &other,
        "clients:\n  x:\n    client_id: other_id\n    client_secret: s\n    apid_uri: h\n",
    )
    .unwrap();
    let home = dir.to_str().unwrap();

    // ~/.janrain-capture
    let at_home = CredentialLookup {
        env: env(&[("HOME", home)]),
        ..CredentialLookup::new()
    }
    .default_client();
    assert_eq!(found(&at_home).0, "test_client_id");
    // JANRAIN_CONFIG wins; an empty one counts as unset.
    let named = CredentialLookup {
        env: env(&[("HOME", home), (CONFIG_VAR, other.to_str().unwrap())]),
        ..CredentialLookup::new()
    }
    .config_key("x");
    assert_eq!(found(&named).0, "other_id");
    let empty = CredentialLookup {
        env: env(&[("HOME", home), (CONFIG_VAR, "")]),
        ..CredentialLookup::new()
    }
    .default_client();
    assert_eq!(found(&empty).0, "test_client_id");
    // config_file() wins over both.
    let chosen = CredentialLookup {
        env: env(&[("HOME", "/nonexistent")]),
        ..CredentialLookup::new()
    }
    .config_file(&other)
    .config_key("x");
    assert_eq!(found(&chosen).0, "other_id");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn secrets_stay_out_of_debug() {
    let file = file();
    let text = format!(
        "{file:?} {:?} {:?} {:?}",
        file.entry("test-client").unwrap(),
        lookup(&[]).client_id("i").client_secret("given secret"),
        lookup(&[]).config_key("test-client").credentials().unwrap(),
    );
    assert!(text.contains("clients.test-client"), "{text}");
    for secret in ["test client secret", "given secret", "dev client_secret"] {
        assert!(!text.contains(secret), "{text}");
    }
}

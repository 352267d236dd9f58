//! Credentials found the way Janrain's Python client (`janrain-python-api`) finds them: from
//! what the program was given, a named entry of the Janrain config file, the file's default
//! client, or the environment.
//!
//! # The order
//!
//! [`CredentialLookup`] takes the first of these that gives both a client id and a secret:
//!
//! 1. a client id and a secret given to it ([`client_id`](CredentialLookup::client_id) and
//!    [`client_secret`](CredentialLookup::client_secret); one without the other is passed over);
//! 2. a [config key](CredentialLookup::config_key): an entry of the config file (below);
//! 3. the file's [default client](CredentialLookup::default_client), `defaults.default_client`;
//! 4. the environment: `CAPTURE_CLIENT_ID` and `CAPTURE_CLIENT_SECRET`, both set.
//!
//! The API's URL is the one [given](CredentialLookup::apid_uri), else the entry's `apid_uri`,
//! else `CAPTURE_APID_URI`. A bare host (`myapp.janraincapture.com`) means `https://` on it. An
//! empty value counts as none, for flags and variables alike.
//!
//! [`JanrainClient::from_env`](super::JanrainClient::from_env) and
//! [`JanrainClient::from_config`](super::JanrainClient::from_config) are the short ways for a
//! program; the `janrain` command (feature `cli`) maps its flags onto a lookup.
//!
//! # The config file
//!
//! YAML, at the path in `JANRAIN_CONFIG`, else `.janrain-capture` in the home directory:
//!
//! ```yaml
//! defaults:
//!   default_client: demo            # what the default client is (an entry key, as below)
//!
//! clusters:                         # settings shared by clients
//!   eu:
//!     apid_uri: https://myapp.eu.janraincapture.com
//!
//! clients:
//!   demo:
//!     client_id: 3jcutk5fmw9t4a4jgyqk9fv7jxjr5b2n
//!     client_secret: 9ha0vzq2kwfzzztf8wjrh8a4vd3mm5ds
//!     apid_uri: https://myapp.janraincapture.com
//!   eu-reporting:
//!     cluster: eu                   # takes eu's settings it does not set itself
//!     client_id: ...
//!     client_secret: ...
//! ```
//!
//! * **An entry key** is a dotted path from the top of the file (`clients.demo`,
//!   `clusters.eu`), or a bare name, tried as itself, then as `clients.NAME`, then as
//!   `clusters.NAME`. An entry is a mapping with `client_id`, `client_secret` and, optionally,
//!   `apid_uri`; other settings are ignored.
//! * **`cluster: NAME`** in a client merges the cluster `clusters.NAME` into it: every setting
//!   of the cluster the client does not have itself. A client naming a cluster the file does
//!   not define makes the file unusable ([`LookupError::UnknownCluster`]), as in the Python
//!   client.
//! * **Values are text as written**: `client_id: 0123` is the id `0123` (YAML would make it a
//!   number; the Python client would then send `83`). A plain `~`, `null` or nothing is no
//!   value. Anchors, aliases, tags and `<<` merge keys work; a repeated key keeps its last
//!   value, as PyYAML does.
//!
//! The YAML is read by `saphyr`, the maintained pure-Rust YAML 1.2 library (`serde_yaml` is
//! deprecated and `yaml-rust` unmaintained), with scalars kept as their text so that the rule
//! above holds whatever YAML 1.1 or 1.2 would make of them.
//!
//! ```
//! use janrain_auth::client::config::{ConfigFile, CredentialLookup};
//!
//! let file = ConfigFile::parse(
//!     "clusters:\n  eu:\n    apid_uri: myapp.eu.janraincapture.com\n\
//!      clients:\n  reports:\n    cluster: eu\n    client_id: reports_id\n    client_secret: s3cret\n",
//!     "example.yaml",
//! )?;
//! let entry = file.entry("reports")?; // clients.reports, with the cluster's apid_uri
//! assert_eq!(entry.key(), "clients.reports");
//! assert_eq!(entry.apid_uri(), Some("myapp.eu.janraincapture.com"));
//!
//! let credentials = CredentialLookup::new().config_key("reports").with_file(file).credentials()?;
//! assert_eq!(credentials.client().id().as_str(), "reports_id");
//! assert_eq!(credentials.apid_uri(), "https://myapp.eu.janraincapture.com");
//! # Ok::<(), janrain_auth::client::config::LookupError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use saphyr::{ScalarStyle, Yaml, YamlLoader};
use zeroize::Zeroizing;

use super::allowlist::with_default_scheme;
use super::builder::SignerBuilder;
use super::error::ConfigError;
use super::request_signer::RequestSigner;
use crate::credentials::{ApiClient, ClientId, ClientSecret, CredentialsError};

/// The variable that names the config file.
pub const CONFIG_VAR: &str = "JANRAIN_CONFIG";
/// The config file's name in the home directory, when [`CONFIG_VAR`] is not set.
pub const CONFIG_FILE_NAME: &str = ".janrain-capture";
/// The variable holding the client id, step 4 of the order.
pub const CLIENT_ID_VAR: &str = "CAPTURE_CLIENT_ID";
/// The variable holding the client secret, step 4 of the order.
pub const CLIENT_SECRET_VAR: &str = "CAPTURE_CLIENT_SECRET";
/// The variable holding the API's URL, when neither a URL nor an entry's `apid_uri` gives one.
pub const APID_URI_VAR: &str = "CAPTURE_APID_URI";

/// Why credentials or a URL could not be found. Each message says what to set or fix; none
/// holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// No source gave both a client id and a secret.
    #[error(
        "no API client credentials: {} no config entry was named, no default client was asked for, and {CLIENT_ID_VAR} and {CLIENT_SECRET_VAR} are not both set",
        given_half(*client_id_given, *secret_given)
    )]
    NoCredentials {
        /// A client id was given without a secret.
        client_id_given: bool,
        /// A secret was given without a client id.
        secret_given: bool,
    },
    /// No source gave the API's URL.
    #[error(
        "no API URL: none was given, {}and {APID_URI_VAR} is not set",
        match entry { Some(key) => format!("the config entry {key} has no apid_uri, "), None => String::new() }
    )]
    NoUrl {
        /// The config entry the credentials came from, if any.
        entry: Option<String>,
    },
    /// The config file's place is the home directory, and there is none.
    #[error(
        "cannot find the home directory for the config file {CONFIG_FILE_NAME}; set {CONFIG_VAR} to the file's path"
    )]
    NoHome,
    /// The config file could not be read.
    #[error("cannot read the Janrain config file {}: {source} (create it, or set {CONFIG_VAR} to another file)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid YAML, or its top is not a mapping.
    #[error("the Janrain config file {} is not usable: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// No entry has the key.
    #[error(
        "the Janrain config file {} has no entry {key} (looked for {}){}",
        path.display(), tried.join(", "), known_entries(known)
    )]
    NoEntry {
        /// The key as given.
        key: String,
        /// The file.
        path: PathBuf,
        /// The paths looked up, in order.
        tried: Vec<String>,
        /// The clients and clusters the file has, as `clients.NAME` and `clusters.NAME`.
        known: Vec<String>,
    },
    /// The key leads to something other than a mapping of settings.
    #[error(
        "{key} in the Janrain config file {} is not an entry (a mapping with client_id, client_secret and apid_uri)",
        path.display()
    )]
    NotAnEntry {
        /// The entry's path.
        key: String,
        /// The file.
        path: PathBuf,
    },
    /// The default client was asked for and the file names none.
    #[error(
        "the Janrain config file {} names no default client: add defaults: default_client: NAME",
        path.display()
    )]
    NoDefaultClient {
        /// The file.
        path: PathBuf,
    },
    /// A client names a cluster the file does not define.
    #[error(
        "clients.{client} in the Janrain config file {} has cluster: {cluster}, and there is no clusters.{cluster}",
        path.display()
    )]
    UnknownCluster {
        /// The client's name.
        client: String,
        /// The cluster it names.
        cluster: String,
        /// The file.
        path: PathBuf,
    },
    /// An entry lacks a setting the credentials need.
    #[error("{entry} in the Janrain config file {} has no {field}", path.display())]
    MissingSetting {
        /// The entry's path.
        entry: String,
        /// `client_id` or `client_secret`.
        field: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A setting is a list or a mapping where text belongs.
    #[error("{field} of {entry} in the Janrain config file {} must be text", path.display())]
    NotText {
        /// The entry's path.
        entry: String,
        /// The setting.
        field: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// A client id or secret that was found is not valid.
    #[error("the {what} is not valid: {source}")]
    Invalid {
        /// Which value, and where it came from.
        what: String,
        /// Why.
        #[source]
        source: CredentialsError,
    },
    /// The URL cannot be a base URL, or the client cannot be built.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

fn given_half(client_id: bool, secret: bool) -> &'static str {
    match (client_id, secret) {
        (true, false) => "a client id was given without a secret,",
        (false, true) => "a secret was given without a client id,",
        _ => "none were given,",
    }
}

fn known_entries(known: &[String]) -> String {
    if known.is_empty() {
        "; it defines no clients or clusters".to_owned()
    } else {
        format!("; it has {}", known.join(", "))
    }
}

/// A value of the config file, as written: scalars as their text.
#[derive(Clone)]
enum Node {
    /// A plain `~`, `null` or nothing.
    Null,
    /// A scalar's text (zeroized on drop: it may be a secret).
    Text(Zeroizing<String>),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in the file's order, each key once (the last value wins).
    Map(Vec<(String, Node)>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Node::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The node at a dotted path.
    fn at(&self, path: &str) -> Option<&Node> {
        path.split('.').try_fold(self, |node, key| node.get(key))
    }

    /// The names of a mapping's entries.
    fn names(&self) -> impl Iterator<Item = &str> {
        let entries = match self {
            Node::Map(entries) => entries.as_slice(),
            _ => &[],
        };
        entries.iter().map(|(k, _)| k.as_str())
    }

    /// Read a loaded YAML node as written.
    fn from_yaml(yaml: Yaml<'_>) -> Node {
        match yaml {
            Yaml::Representation(text, style, _) => {
                let null = style == ScalarStyle::Plain
                    && matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                if null {
                    Node::Null
                } else {
                    Node::Text(Zeroizing::new(text.into_owned()))
                }
            }
            Yaml::Value(scalar) => match scalar {
                saphyr::Scalar::Null => Node::Null,
                saphyr::Scalar::String(text) => Node::Text(Zeroizing::new(text.into_owned())),
                saphyr::Scalar::Boolean(b) => Node::Text(Zeroizing::new(b.to_string())),
                saphyr::Scalar::Integer(i) => Node::Text(Zeroizing::new(i.to_string())),
                saphyr::Scalar::FloatingPoint(f) => Node::Text(Zeroizing::new(f.to_string())),
            },
            Yaml::Tagged(_, inner) => Node::from_yaml(*inner),
            Yaml::Sequence(items) => Node::List(items.into_iter().map(Node::from_yaml).collect()),
            Yaml::Mapping(mapping) => {
                let mut entries: Vec<(String, Node)> = Vec::with_capacity(mapping.len());
                let mut merged = Vec::new();
                for (key, value) in mapping {
                    let Node::Text(key) = Node::from_yaml(key) else {
                        // A null, list or mapping as a key names nothing an entry can use.
                        continue;
                    };
                    let value = Node::from_yaml(value);
                    if key.as_str() == "<<" {
                        merged.push(value);
                        continue;
                    }
                    match entries.iter_mut().find(|(k, _)| *k == *key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key.to_string(), value)),
                    }
                }
                // `<<: *base` (or a list of them): the merged mappings' keys the mapping does
                // not have, the earlier mapping winning.
                for source in merged {
                    let sources = match source {
                        Node::List(items) => items,
                        other => vec![other],
                    };
                    for source in sources {
                        if let Node::Map(more) = source {
                            for (k, v) in more {
                                if !entries.iter().any(|(have, _)| *have == k) {
                                    entries.push((k, v));
                                }
                            }
                        }
                    }
                }
                Node::Map(entries)
            }
            Yaml::Alias(_) | Yaml::BadValue => Node::Null,
        }
    }
}

/// The Janrain config file, read and checked (see the [module documentation](self)).
///
/// `Debug` shows the path and the names of the clients and clusters, never a setting.
#[derive(Clone)]
pub struct ConfigFile {
    path: PathBuf,
    root: Node,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("entries", &self.known())
            .finish()
    }
}

impl ConfigFile {
    /// Where the file is: `JANRAIN_CONFIG` if set (and not empty), else `.janrain-capture` in
    /// the home directory.
    pub fn default_path() -> Result<PathBuf, LookupError> {
        default_path(&Env::Process)
    }

    /// Read the file at [`ConfigFile::default_path`].
    pub fn load() -> Result<ConfigFile, LookupError> {
        ConfigFile::read(ConfigFile::default_path()?)
    }

    /// Read the file at `path`.
    pub fn read(path: impl Into<PathBuf>) -> Result<ConfigFile, LookupError> {
        let path = path.into();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Zeroizing::new(text),
            Err(source) => return Err(LookupError::Read { path, source }),
        };
        ConfigFile::parse(&text, path)
    }

    /// Read `yaml` as the file's contents; `path` names the file in messages.
    pub fn parse(yaml: &str, path: impl Into<PathBuf>) -> Result<ConfigFile, LookupError> {
        let path = path.into();
        let syntax = |message: String| LookupError::Syntax {
            path: path.clone(),
            message,
        };
        let mut loader: YamlLoader<'_, Yaml<'_>> = YamlLoader::default();
        // Scalars as written (see the module documentation); duplicate keys as PyYAML reads
        // them, the last one winning.
        loader.early_parse(false);
        loader.allow_duplicate_keys(true);
        let mut parser = saphyr_parser::Parser::new_from_str(yaml);
        parser
            .load(&mut loader, false)
            .map_err(|e| syntax(e.to_string()))?;
        if let Some(e) = loader.error() {
            return Err(syntax(e.to_string()));
        }
        let root = match loader.into_documents().into_iter().next() {
            None => Node::Map(Vec::new()),
            Some(doc) => match Node::from_yaml(doc) {
                Node::Null => Node::Map(Vec::new()),
                map @ Node::Map(_) => map,
                _ => {
                    return Err(syntax(
                        "its top level must be a mapping (clients:, clusters:, defaults:)".into(),
                    ));
                }
            },
        };
        let mut file = ConfigFile { path, root };
        file.merge_clusters()?;
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry at `key`: a dotted path, or a bare name tried as itself, then under
    /// `clients.`, then under `clusters.`.
    pub fn entry(&self, key: &str) -> Result<ConfigEntry, LookupError> {
        let mut tried = vec![key.to_owned()];
        if !key.contains('.') {
            tried.push(format!("clients.{key}"));
            tried.push(format!("clusters.{key}"));
        }
        for path in &tried {
            if let Some(node) = self.root.at(path) {
                return self.read_entry(path, node);
            }
        }
        Err(LookupError::NoEntry {
            key: key.to_owned(),
            path: self.path.clone(),
            tried,
            known: self.known(),
        })
    }

    /// The default client: the entry whose key is `defaults.default_client`.
    pub fn default_client(&self) -> Result<ConfigEntry, LookupError> {
        match self.root.at("defaults.default_client").and_then(Node::text) {
            Some(key) => self.entry(key),
            None => Err(LookupError::NoDefaultClient {
                path: self.path.clone(),
            }),
        }
    }

    /// `clients.NAME` and `clusters.NAME` for every client and cluster.
    fn known(&self) -> Vec<String> {
        let mut known = Vec::new();
        for section in ["clients", "clusters"] {
            if let Some(node) = self.root.get(section) {
                known.extend(node.names().map(|name| format!("{section}.{name}")));
            }
        }
        known
    }

    /// Give every client that names a cluster the cluster's settings it lacks.
    fn merge_clusters(&mut self) -> Result<(), LookupError> {
        let clusters = match self.root.get("clusters") {
            Some(clusters @ Node::Map(_)) if self.root.get("clients").is_some() => clusters.clone(),
            _ => return Ok(()),
        };
        let Node::Map(root) = &mut self.root else {
            return Ok(());
        };
        let Some((_, Node::Map(clients))) = root.iter_mut().find(|(k, _)| k == "clients") else {
            return Ok(());
        };
        for (name, client) in clients.iter_mut() {
            let Node::Map(settings) = client else {
                continue;
            };
            let Some(cluster) = settings
                .iter()
                .find(|(k, _)| k == "cluster")
                .and_then(|(_, v)| v.text())
                .map(str::to_owned)
            else {
                continue;
            };
            let Some(Node::Map(shared)) = clusters.get(&cluster) else {
                return Err(LookupError::UnknownCluster {
                    client: name.clone(),
                    cluster,
                    path: self.path.clone(),
                });
            };
            for (key, value) in shared {
                if !settings.iter().any(|(k, _)| k == key) {
                    settings.push((key.clone(), value.clone()));
                }
            }
        }
        Ok(())
    }

    fn read_entry(&self, key: &str, node: &Node) -> Result<ConfigEntry, LookupError> {
        if !matches!(node, Node::Map(_)) {
            return Err(LookupError::NotAnEntry {
                key: key.to_owned(),
                path: self.path.clone(),
            });
        }
        let setting = |field: &'static str| match node.get(field) {
            None | Some(Node::Null) => Ok(None),
            Some(Node::Text(text)) if text.is_empty() => Ok(None),
            Some(Node::Text(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(LookupError::NotText {
                entry: key.to_owned(),
                field,
                path: self.path.clone(),
            }),
        };
        let invalid = |field: &str, source| LookupError::Invalid {
            what: format!("{field} of {key} in {}", self.path.display()),
            source,
        };
        Ok(ConfigEntry {
            key: key.to_owned(),
            file: self.path.clone(),
            client_id: setting("client_id")?
                .map(ClientId::new)
                .transpose()
                .map_err(|e| invalid("client_id", e))?,
            client_secret: setting("client_secret")?
                .map(ClientSecret::new)
                .transpose()
                .map_err(|e| invalid("client_secret", e))?,
            apid_uri: setting("apid_uri")?.map(str::to_owned),
        })
    }
}

/// One entry of the config file: the settings a client is built from. `Debug` redacts the
/// secret.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    key: String,
    file: PathBuf,
    client_id: Option<ClientId>,
    client_secret: Option<ClientSecret>,
    apid_uri: Option<String>,
}

impl ConfigEntry {
    /// The entry's path in the file, e.g. `clients.demo`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `client_id`, if set.
    pub fn client_id(&self) -> Option<&ClientId> {
        self.client_id.as_ref()
    }

    /// `client_secret`, if set.
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }

    /// `apid_uri`, if set, as written.
    pub fn apid_uri(&self) -> Option<&str> {
        self.apid_uri.as_deref()
    }
}

/// Where the environment comes from: the process's, or (in tests) a map.
#[derive(Clone, Default)]
enum Env {
    #[default]
    Process,
    #[cfg_attr(not(test), allow(dead_code))]
    Map(HashMap<String, String>),
}

impl Env {
    /// A variable's value; an unset, empty or non-UTF-8 one is `None`.
    fn var(&self, name: &str) -> Option<String> {
        let value = match self {
            Env::Process => std::env::var(name).ok(),
            Env::Map(map) => map.get(name).cloned(),
        };
        value.filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        match self {
            Env::Process => std::env::home_dir(),
            Env::Map(map) => map.get("HOME").map(PathBuf::from),
        }
    }
}

fn default_path(env: &Env) -> Result<PathBuf, LookupError> {
    if let Some(path) = env.var(CONFIG_VAR) {
        return Ok(PathBuf::from(path));
    }
    env.home()
        .filter(|home| !home.as_os_str().is_empty())
        .map(|home| home.join(CONFIG_FILE_NAME))
        .ok_or(LookupError::NoHome)
}

/// Where the credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// The client id and secret given to the lookup.
    Given,
    /// The config entry with this key (e.g. `clients.demo`), named or the default client.
    ConfigEntry(String),
    /// `CAPTURE_CLIENT_ID` and `CAPTURE_CLIENT_SECRET`.
    Environment,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Given => f.write_str("the client id and secret given"),
            CredentialSource::ConfigEntry(key) => write!(f, "the config entry {key}"),
            CredentialSource::Environment => {
                write!(f, "{CLIENT_ID_VAR} and {CLIENT_SECRET_VAR}")
            }
        }
    }
}

/// Finds a client's credentials and the API's URL in the order of the
/// [module documentation](self), the order of Janrain's `capture-api`.
///
/// The config file is read only when a config key or the default client is asked for.
///
/// ```no_run
/// use janrain_auth::client::JanrainClient;
/// use janrain_auth::client::config::CredentialLookup;
///
/// // As `capture-api -k demo -u myapp.janraincapture.com` would.
/// let credentials = CredentialLookup::new()
///     .config_key("demo")
///     .apid_uri("myapp.janraincapture.com")
///     .credentials()?;
/// let janrain = credentials.into_client()?;
/// # Ok::<(), janrain_auth::client::config::LookupError>(())
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct CredentialLookup {
    client_id: Option<String>,
    client_secret: Option<Zeroizing<String>>,
    config_key: Option<String>,
    default_client: bool,
    apid_uri: Option<String>,
    file: Option<FileChoice>,
    env: Env,
}

/// The config file to use instead of the default one.
#[derive(Clone)]
enum FileChoice {
    Path(PathBuf),
    Read(Box<ConfigFile>),
}

impl fmt::Debug for CredentialLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialLookup")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("config_key", &self.config_key)
            .field("default_client", &self.default_client)
            .field("apid_uri", &self.apid_uri)
            .finish_non_exhaustive()
    }
}

/// What a lookup found, before it is checked for completeness.
struct Found {
    /// The client id and secret, when the source has both.
    client: Option<(ClientId, ClientSecret)>,
    /// The source that was chosen.
    source: Option<CredentialSource>,
    /// The config entry, when the source is one.
    entry: Option<ConfigEntry>,
    url: Option<String>,
}

impl CredentialLookup {
    /// A lookup with nothing given: the environment alone.
    pub fn new() -> Self {
        CredentialLookup::default()
    }

    /// The client id to use, with [`client_secret`](Self::client_secret) (first in the order).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into()).filter(|id| !id.is_empty());
        self
    }

    /// The secret to use, with [`client_id`](Self::client_id).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Zeroizing::new(secret.into())).filter(|s| !s.is_empty());
        self
    }

    /// The config entry to use, by key (second in the order).
    pub fn config_key(mut self, key: impl Into<String>) -> Self {
        self.config_key = Some(key.into()).filter(|key| !key.is_empty());
        self
    }

    /// Use the config file's default client (third in the order).
    pub fn default_client(mut self) -> Self {
        self.default_client = true;
        self
    }

    /// The API's URL, before any entry's `apid_uri` and `CAPTURE_APID_URI`.
    pub fn apid_uri(mut self, url: impl Into<String>) -> Self {
        self.apid_uri = Some(url.into()).filter(|url| !url.is_empty());
        self
    }

    /// Read the config file at `path` instead of the default one.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(FileChoice::Path(path.into()));
        self
    }

    /// Use a config file already read instead of the default one.
    pub fn with_file(mut self, file: ConfigFile) -> Self {
        self.file = Some(FileChoice::Read(Box::new(file)));
        self
    }

    /// The client's credentials and the API's URL; both must be found.
    pub fn credentials(&self) -> Result<Credentials, LookupError> {
        let found = self.find()?;
        let Some(source) = found.source else {
            return Err(LookupError::NoCredentials {
                client_id_given: self.client_id.is_some() && self.client_secret.is_none(),
                secret_given: self.client_secret.is_some() && self.client_id.is_none(),
            });
        };
        let entry = found.entry;
        let Some((id, secret)) = found.client else {
            // Only an entry is chosen without both halves.
            let (key, field, path) = match entry {
                Some(e) if e.client_id.is_none() => (e.key, "client_id", e.file),
                Some(e) => (e.key, "client_secret", e.file),
                None => (String::new(), "client_id", PathBuf::new()),
            };
            return Err(LookupError::MissingSetting {
                entry: key,
                field,
                path,
            });
        };
        let apid_uri = found.url.ok_or_else(|| LookupError::NoUrl {
            entry: entry.map(|e| e.key),
        })?;
        Ok(Credentials {
            client: ApiClient::new(id, secret),
            apid_uri: with_default_scheme(apid_uri),
            source,
        })
    }

    /// The API's URL alone, for calls that need no API client (as a user, with an access
    /// token): given, else the entry's (when a config key or the default client is asked for),
    /// else `CAPTURE_APID_URI`; `https://` added to a bare host.
    pub fn api_url(&self) -> Result<String, LookupError> {
        let found = self.find()?;
        match found.url {
            Some(url) => Ok(with_default_scheme(url)),
            None => Err(LookupError::NoUrl {
                entry: found.entry.map(|e| e.key),
            }),
        }
    }

    /// The config file: the one chosen, or the default one.
    fn file(&self) -> Result<ConfigFile, LookupError> {
        match &self.file {
            Some(FileChoice::Read(file)) => Ok((**file).clone()),
            Some(FileChoice::Path(path)) => ConfigFile::read(path),
            None => ConfigFile::read(default_path(&self.env)?),
        }
    }

    /// The first source of the order, and the URL.
    fn find(&self) -> Result<Found, LookupError> {
        let url = |entry: Option<&ConfigEntry>| {
            self.apid_uri
                .clone()
                .or_else(|| entry.and_then(|e| e.apid_uri.clone()))
                .or_else(|| self.env.var(APID_URI_VAR))
        };
        let given = |what: &str, source| LookupError::Invalid {
            what: what.to_owned(),
            source,
        };
        if let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) {
            let id = ClientId::new(id).map_err(|e| given("client id given", e))?;
            let secret =
                ClientSecret::new(secret.as_str()).map_err(|e| given("client secret given", e))?;
            return Ok(Found {
                client: Some((id, secret)),
                source: Some(CredentialSource::Given),
                entry: None,
                url: url(None),
            });
        }
        let entry = match (&self.config_key, self.default_client) {
            (Some(key), _) => Some(self.file()?.entry(key)?),
            (None, true) => Some(self.file()?.default_client()?),
            (None, false) => None,
        };
        if let Some(entry) = entry {
            return Ok(Found {
                client: entry.client_id.clone().zip(entry.client_secret.clone()),
                source: Some(CredentialSource::ConfigEntry(entry.key.clone())),
                url: url(Some(&entry)),
                entry: Some(entry),
            });
        }
        let from_env = match (self.env.var(CLIENT_ID_VAR), self.env.var(CLIENT_SECRET_VAR)) {
            (Some(id), Some(secret)) => {
                let secret = Zeroizing::new(secret);
                let id = ClientId::new(id).map_err(|e| given(CLIENT_ID_VAR, e))?;
                let secret =
                    ClientSecret::new(secret.as_str()).map_err(|e| given(CLIENT_SECRET_VAR, e))?;
                Some((id, secret))
            }
            _ => None,
        };
        Ok(Found {
            source: from_env.as_ref().map(|_| CredentialSource::Environment),
            client: from_env,
            entry: None,
            url: url(None),
        })
    }
}

/// A client's credentials and the API's URL, as a [`CredentialLookup`] found them: what a
/// [`RequestSigner`] and a [`JanrainClient`](super::JanrainClient) are built from. `Debug`
/// redacts the secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    client: ApiClient,
    apid_uri: String,
    source: CredentialSource,
}

impl Credentials {
    /// The API client (id and secret).
    pub fn client(&self) -> &ApiClient {
        &self.client
    }

    /// The API's URL, `https://` added to a bare host.
    pub fn apid_uri(&self) -> &str {
        &self.apid_uri
    }

    /// Where the client id and secret came from.
    pub fn source(&self) -> &CredentialSource {
        &self.source
    }

    /// A signer builder for this client with this URL as its base URL, for more options
    /// ([`AuthMode`](super::AuthMode), clock, hosts).
    pub fn signer(&self) -> SignerBuilder {
        RequestSigner::builder(self.client.clone()).base_url(self.apid_uri.clone())
    }

    /// A [`JanrainClient`](super::JanrainClient) with the defaults of
    /// [`JanrainClient::new`](super::JanrainClient::new), janrain-signed.
    pub fn into_client(self) -> Result<super::JanrainClient, LookupError> {
        let signer = self.signer().build()?;
        Ok(super::JanrainClient::new(signer)?)
    }
}

#[cfg(test)]
mod tests;

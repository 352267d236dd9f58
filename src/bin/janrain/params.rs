//! The `-p key=value` parameters, as `capture-api` reads them: split at the first `=`, sent
//! as they are, a repeated key keeping its first place and its last value (a Python `dict`).

use serde::ser::{Serialize, Serializer};

/// The parameters, in the order of their first appearance.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

/// The parameters that are credentials, whose values `-b` never shows.
const SECRET: [&str; 4] = ["client_secret", "access_token", "password", "refresh_token"];

impl Params {
    /// Read `-p` values.
    pub(crate) fn parse(items: &[String]) -> Result<Params, String> {
        let mut params = Params::default();
        for item in items {
            let Some((key, value)) = item.split_once('=') else {
                return Err(format!(
                    "parameter {item:?} is not parameter=value (e.g. -p type_name=user)"
                ));
            };
            params.set(key, value);
        }
        Ok(params)
    }

    fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value.to_owned(),
            None => self.0.push((key.to_owned(), value.to_owned())),
        }
    }

    /// Take parameter `key` out, if present.
    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The pairs, in order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The parameters for `-b`: `key=value` each, credentials shown as `REDACTED`.
    pub(crate) fn redacted(&self) -> String {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| {
                if SECRET.contains(&k.as_str()) {
                    format!("{k}=REDACTED")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        shown.join(" ")
    }
}

/// A map of the parameters in their order, for `find_all`.
impl Serialize for Params {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    fn parse(items: &[&str]) -> Result<Params, String> {
        Params::parse(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn as_a_python_dict() {
        let params = parse(&["a=1", "b=x=y", "a=2", "empty="]).unwrap();
        let pairs: Vec<(&str, &str)> = params
            .pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "2"), ("b", "x=y"), ("empty", "")]);
        let err = parse(&["type_name"]).unwrap_err();
        assert!(
            err.contains("\"type_name\" is not parameter=value"),
            "{err}"
        );
    }

    #[test]
    fn credentials_are_redacted() {
        let mut params =
            parse(&["type_name=user", "client_secret=s3", "access_token=t0k"]).unwrap();
        assert_eq!(
            params.redacted(),
            "type_name=user client_secret=REDACTED access_token=REDACTED"
        );
        assert_eq!(params.take("access_token").as_deref(), Some("t0k"));
        assert_eq!(params.take("access_token"), None);
    }
}

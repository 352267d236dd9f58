//! The first step: which operation a request calls, from its path (below the API's prefix,
//! percent-decoded as a router decodes it), and whether its method is the operation's.

use std::borrow::Cow;

use http::request::Parts;

use super::{Verifier, refusal};
use crate::permissions::Operation;
use crate::server::{Rejection, RejectionKind};

/// What the layer does with a path that is in neither the catalog nor the policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UnknownPaths {
    /// Refuse it: 404 `unknown_operation`. The default: nothing gets through by accident.
    Deny,
    /// Let it through without authentication (for routes such as `/health` that share the
    /// router). Its body is still read under the body limit and timeout, and it carries no
    /// credentials the layer checked. Keeping such routes in a router of their own, merged
    /// beside the API's, is clearer: see the [module
    /// documentation](crate::server#keeping-other-routes-open).
    Allow,
    /// Authenticate it as this operation (path ignored): e.g. any header auth, owner only.
    Authenticate(Operation),
}

/// Where the API sits below the root of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    None,
    /// The layer runs inside `Router::nest(prefix, ..)`: it sees paths without the prefix.
    Nested(String),
    /// The layer sees full paths and strips the prefix to find the operation.
    Strip(String),
}

/// The operation a request calls. It names the operation by where the layer's configuration
/// holds it rather than copying it: the configuration outlives every request it verifies,
/// and a request's state stays small (it moves as the verification goes on).
pub(super) struct Called {
    which: Which,
    /// The path the client called, and signed, where it is not the path the layer sees.
    pub(super) called_path: Option<String>,
}

/// Where the configuration holds the operation a request calls.
enum Which {
    /// The catalog's operation at this position.
    Catalog(usize),
    /// The operation [`UnknownPaths::Authenticate`] authenticates unknown paths as, called at
    /// this path (which names it in what the handler is told).
    Unknown(String),
}

impl Called {
    /// The operation called, from the configuration that found it.
    pub(super) fn operation<'v>(&self, verifier: &'v Verifier) -> &'v Operation {
        let found = match (&self.which, &verifier.unknown) {
            (Which::Catalog(i), _) => verifier.catalog.at(*i),
            (Which::Unknown(_), UnknownPaths::Authenticate(op)) => Some(op),
            (Which::Unknown(_), UnknownPaths::Deny | UnknownPaths::Allow) => None,
        };
        // A verifier's configuration does not change, so the operation is always there; were
        // it not, the request would be refused, never let through.
        found.unwrap_or(&Operation::REFUSING_ALL)
    }

    /// The operation's name: its path, or the path called for an unknown path authenticated
    /// as the policy's operation.
    pub(super) fn name<'a>(&'a self, verifier: &'a Verifier) -> &'a str {
        match &self.which {
            Which::Catalog(_) => self.operation(verifier).path(),
            Which::Unknown(path) => path,
        }
    }

    /// [`Called::name`], as the handler is told it (static for the built-in catalog: no
    /// allocation).
    pub(super) fn into_name(self, verifier: &Verifier) -> Cow<'static, str> {
        match self.which {
            Which::Catalog(_) => self.operation(verifier).path_cow().clone(),
            Which::Unknown(path) => Cow::Owned(path),
        }
    }
}

impl Verifier {
    /// The operation `parts` calls; `None` for an unknown path that is let through.
    pub(super) fn operation(
        &self,
        parts: &Parts,
        span: &tracing::Span,
    ) -> Result<Option<Called>, Rejection> {
        let (op_path, called_path) = self.paths(parts.uri.path())?;
        // A router matches `/entity.find` and hands a `Path` capture `entity.find` for
        // `/entity%2Efind` alike: the operation is looked up as the router would read it.
        let op_path = percent_decoded(op_path);
        span.record("operation", &*op_path);

        let which = match self.catalog.position(&op_path) {
            Some(i) => Which::Catalog(i),
            None => match &self.unknown {
                UnknownPaths::Deny => {
                    return Err(Rejection::new(
                        RejectionKind::UnknownOperation,
                        format!("{op_path} is not an operation of this API"),
                    ));
                }
                UnknownPaths::Allow => return Ok(None),
                UnknownPaths::Authenticate(_) => Which::Unknown(op_path.into_owned()),
            },
        };
        let called = Called {
            which,
            called_path: match called_path {
                Cow::Owned(path) => Some(path),
                Cow::Borrowed(_) => None,
            },
        };
        let operation = called.operation(self);
        if self.enforce_methods && parts.method != operation.method() {
            return Err(refusal(
                RejectionKind::MethodNotAllowed,
                format!(
                    "{} is served with {}, not {}",
                    called.name(self),
                    operation.method(),
                    parts.method
                ),
                operation.auth(),
            ));
        }
        Ok(Some(called))
    }

    /// The operation path (for the catalog) and the called path (what the client signed).
    fn paths<'p>(&self, seen: &'p str) -> Result<(Cow<'p, str>, Cow<'p, str>), Rejection> {
        match &self.prefix {
            Prefix::None => Ok((Cow::Borrowed(seen), Cow::Borrowed(seen))),
            Prefix::Nested(prefix) => {
                Ok((Cow::Borrowed(seen), Cow::Owned(format!("{prefix}{seen}"))))
            }
            Prefix::Strip(prefix) => match seen.strip_prefix(prefix.as_str()) {
                Some(rest) if rest.starts_with('/') => {
                    Ok((Cow::Borrowed(rest), Cow::Borrowed(seen)))
                }
                _ => Err(Rejection::new(
                    RejectionKind::UnknownOperation,
                    format!("{seen} is not below the API prefix {prefix}"),
                )),
            },
        }
    }
}

/// `path` with its percent-escapes decoded, as routers decode the captures they hand on; as it
/// is where it holds none, or decodes to bytes that are not UTF-8 (no operation is named so).
fn percent_decoded(path: Cow<'_, str>) -> Cow<'_, str> {
    if !path.contains('%') {
        return path;
    }
    match percent_encoding::percent_decode_str(&path).decode_utf8() {
        Ok(Cow::Owned(decoded)) => Cow::Owned(decoded),
        Ok(Cow::Borrowed(_)) | Err(_) => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_as_a_router_decodes_them() {
        let decoded = |path: &str| percent_decoded(Cow::Borrowed(path)).into_owned();
        assert_eq!(decoded("/entity.find"), "/entity.find");
        assert_eq!(decoded("/entity%2Efind"), "/entity.find");
        assert_eq!(decoded("/entity%2efind"), "/entity.find");
        assert_eq!(decoded("/%65ntity"), "/entity");
        // Not escapes, or not text: the path as it is.
        assert_eq!(decoded("/100%"), "/100%");
        assert_eq!(decoded("/a%zz"), "/a%zz");
        assert_eq!(decoded("/a%FF"), "/a%FF");
    }

    fn verifier(layer: crate::server::VerifyLayerBuilder) -> std::sync::Arc<Verifier> {
        layer.build().verifier
    }

    fn parts(method: http::Method, path: &str) -> Parts {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    /// A catalog operation is found where the catalog holds it and named by its path; an
    /// unknown path authenticated as the policy's operation is that operation, named by the
    /// path called; a path the policy lets through is no operation at all.
    #[test]
    fn the_operation_called_and_its_name() {
        use crate::permissions::{AuthMethods, Features};
        use crate::server::{MemoryStore, VerifyLayer};
        let span = tracing::Span::none();

        let builtin = verifier(VerifyLayer::builder(MemoryStore::new()));
        let called = builtin
            .operation(&parts(http::Method::POST, "/entity%2Efind"), &span)
            .unwrap()
            .unwrap();
        assert!(std::ptr::eq(
            called.operation(&builtin),
            builtin.catalog.get("/entity.find").unwrap()
        ));
        assert_eq!(called.name(&builtin), "/entity.find");
        assert!(matches!(
            called.into_name(&builtin),
            Cow::Borrowed("/entity.find")
        ));

        let policy = Operation::new("/anything", AuthMethods::HEADER, Features::EMPTY);
        let open = verifier(
            VerifyLayer::builder(MemoryStore::new())
                .unknown_paths(UnknownPaths::Authenticate(policy.clone())),
        );
        let called = open
            .operation(&parts(http::Method::POST, "/v2/thing"), &span)
            .unwrap()
            .unwrap();
        assert_eq!(called.operation(&open), &policy);
        assert_eq!(called.name(&open), "/v2/thing");
        assert_eq!(called.into_name(&open), "/v2/thing");

        let allow =
            verifier(VerifyLayer::builder(MemoryStore::new()).unknown_paths(UnknownPaths::Allow));
        assert!(
            allow
                .operation(&parts(http::Method::POST, "/health"), &span)
                .unwrap()
                .is_none()
        );
        let deny = verifier(VerifyLayer::builder(MemoryStore::new()));
        // Were a request's operation not in the configuration, it would be one that accepts
        // no credentials and allows no feature.
        let stray = Called {
            which: Which::Unknown("/v2/thing".into()),
            called_path: None,
        };
        let nothing = stray.operation(&deny);
        assert_eq!(nothing.auth(), AuthMethods::EMPTY);
        assert_eq!(nothing.allowed(), Features::EMPTY);
        let stray = Called {
            which: Which::Catalog(deny.catalog.len()),
            called_path: None,
        };
        assert_eq!(stray.operation(&deny).auth(), AuthMethods::EMPTY);
        let refused = deny
            .operation(&parts(http::Method::POST, "/health"), &span)
            .err()
            .unwrap();
        assert_eq!(refused.kind(), RejectionKind::UnknownOperation);
    }

    /// With methods enforced, the refusal names the operation as the handler would be told it.
    #[test]
    fn a_method_refusal_names_the_operation() {
        use crate::permissions::{AuthMethods, Features};
        use crate::server::{MemoryStore, VerifyLayer};
        let span = tracing::Span::none();
        let strict = verifier(
            VerifyLayer::builder(MemoryStore::new())
                .enforce_methods(true)
                .unknown_paths(UnknownPaths::Authenticate(Operation::new(
                    "/anything",
                    AuthMethods::HEADER,
                    Features::EMPTY,
                ))),
        );
        for (path, name) in [
            ("/entity%2Efind", "/entity.find"),
            ("/v2/thing", "/v2/thing"),
        ] {
            let refused = strict
                .operation(&parts(http::Method::GET, path), &span)
                .err()
                .unwrap();
            assert_eq!(refused.kind(), RejectionKind::MethodNotAllowed);
            assert_eq!(
                refused.description(),
                format!("{name} is served with POST, not GET"),
                "{path}"
            );
        }
    }
}

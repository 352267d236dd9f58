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
    /// documentation](super#keeping-other-routes-open).
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

/// The operation a request calls.
pub(super) struct Called {
    pub(super) operation: Operation,
    /// The operation's name (static for catalog operations: no allocation).
    pub(super) name: Cow<'static, str>,
    /// The path the client called, and signed, where it is not the path the layer sees.
    pub(super) called_path: Option<String>,
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

        // The catalog's paths are static text: naming the operation costs no allocation.
        let (operation, name) = match self.catalog.get(&op_path) {
            Some(op) => (op, op.path_cow().clone()),
            None => match &self.unknown {
                UnknownPaths::Deny => {
                    return Err(Rejection::new(
                        RejectionKind::UnknownOperation,
                        format!("{op_path} is not an operation of this API"),
                    ));
                }
                UnknownPaths::Allow => return Ok(None),
                UnknownPaths::Authenticate(op) => (op, Cow::Owned(op_path.into_owned())),
            },
        };
        if self.enforce_methods && parts.method != operation.method() {
            return Err(refusal(
                RejectionKind::MethodNotAllowed,
                format!(
                    "{name} is served with {}, not {}",
                    operation.method(),
                    parts.method
                ),
                operation.auth(),
            ));
        }
        Ok(Some(Called {
            operation: operation.clone(),
            name,
            called_path: match called_path {
                Cow::Owned(path) => Some(path),
                Cow::Borrowed(_) => None,
            },
        }))
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
}

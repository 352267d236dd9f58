//! Who a request acts for, and the parameters that must agree with it.
//!
//! Every accepted request passes [`check`] once its principal is known: the API client that
//! authenticated and, for a request made with a user's access token, that user. The rules:
//!
//! * **`access_token` only where it is the credential.** A request authenticated as an API
//!   client (Basic, janrain-signed, form credentials, a login client without a token) or not
//!   at all carries no `access_token` parameter: nothing checked it, and a handler could take
//!   it for a verified user.
//! * **`client_id` names the client that authenticated**, where one did.
//! * **A user's token reaches that user's record and no other.** On such a request, parameter
//!   names are plain (ASCII letters, digits and `_`), so that no reader can drop or fold a
//!   character and find an addressing name the layer did not; and every name that addresses a
//!   record (`uuid`, `id`, `key_attribute`, `key_value`, compared without regard to letter
//!   case or `_`) is refused, but for one `uuid` naming the token's user.

use super::refusal;
use crate::credentials::{ApiClient, ClientId};
use crate::params::ParamList;
use crate::permissions::{AuthMethod, AuthMethods};
use crate::server::{Rejection, RejectionKind};

/// Who an accepted request acts for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Principal<'a> {
    /// How it authenticated.
    pub(super) method: AuthMethod,
    /// The API client that authenticated (none for an operation open to anyone).
    pub(super) client: Option<&'a ClientId>,
    /// The user a user's access token stands for, as its grant records it.
    pub(super) user: Option<&'a str>,
}

impl<'a> Principal<'a> {
    /// An API client that authenticated as itself, acting for no user.
    pub(super) fn client(method: AuthMethod, client: &'a ApiClient) -> Self {
        Principal {
            method,
            client: Some(client.id()),
            user: None,
        }
    }
}

/// The names of parameters that address a record, lower case and without `_`: how they are
/// compared, so that `UUID`, `Key_Value` and `keyvalue` all count.
const ADDRESSING_NAMES: [&[u8]; 4] = [b"uuid", b"id", b"keyattribute", b"keyvalue"];

/// Check `params` against the request's principal (see the [module documentation](self)).
pub(super) fn check(
    params: &ParamList,
    principal: Principal<'_>,
    accepts: AuthMethods,
) -> Result<(), Rejection> {
    let for_user = principal.method.acts_for_user();
    if !for_user && params.get(b"access_token").is_some() {
        return Err(refusal(
            RejectionKind::AmbiguousParameters,
            "the access_token parameter is a user's credential, and this request did not \
             authenticate with it: send a user's token alone (Authorization: OAuth) or no \
             access_token at all",
            accepts,
        ));
    }
    if let (Some(client), Some(named)) = (principal.client, params.get(b"client_id"))
        && named != client.as_str().as_bytes()
    {
        return Err(if principal.method == AuthMethod::OAuth {
            refusal(
                RejectionKind::AccessTokenOtherClient,
                "the access_token was issued to another client than the client_id sent with it",
                accepts,
            )
        } else {
            refusal(
                RejectionKind::AmbiguousParameters,
                "the client_id parameter names another client than the one that authenticated; \
                 send no client_id, or the authenticated client's",
                accepts,
            )
        });
    }
    if !for_user {
        return Ok(());
    }
    let Some(user) = principal.user else {
        return Err(refusal(
            RejectionKind::InvalidAccessToken,
            "the access_token was not issued for a user, so it cannot act for one",
            accepts,
        ));
    };
    let mut addressed = 0;
    for (key, value) in params.iter() {
        if !is_plain_name(key) {
            return Err(refusal(
                RejectionKind::InvalidParameters,
                "a request made with a user's access_token takes parameter names of ASCII \
                 letters, digits and _ only",
                accepts,
            ));
        }
        if is_addressing_name(key) {
            addressed += 1;
            if key != b"uuid" || value != user.as_bytes() || addressed > 1 {
                return Err(refusal(
                    RejectionKind::AccessTokenUserMismatch,
                    "a request made with a user's access_token acts on that user's record only: \
                     send no uuid, id, key_attribute or key_value, or one uuid naming the \
                     token's user",
                    accepts,
                ));
            }
        }
    }
    Ok(())
}

/// Whether `name` holds only ASCII letters, digits and `_`, and at least one of them.
pub(super) fn is_plain_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether `name` addresses a record: one of [`ADDRESSING_NAMES`], in any letter case, with
/// any `_` anywhere.
pub(super) fn is_addressing_name(name: &[u8]) -> bool {
    let folded = name
        .iter()
        .filter(|&&b| b != b'_')
        .map(u8::to_ascii_lowercase);
    ADDRESSING_NAMES
        .iter()
        .any(|addressing| folded.clone().eq(addressing.iter().copied()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_names_in_every_spelling() {
        for name in [
            "uuid",
            "UUID",
            "Uuid",
            "u_uid",
            "_id",
            "ID",
            "i_d",
            "key_attribute",
            "KeyAttribute",
            "keyattribute",
            "key_value",
            "KEY_VALUE",
            "keyValue",
            "key__value_",
        ] {
            assert!(is_addressing_name(name.as_bytes()), "{name}");
        }
        for name in [
            "uuids",
            "ids",
            "type_name",
            "value",
            "key",
            "attribute_name",
            "",
            "_",
            "keyvalu",
        ] {
            assert!(!is_addressing_name(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn plain_names() {
        for name in ["uuid", "type_name", "A9_", "_"] {
            assert!(is_plain_name(name.as_bytes()), "{name}");
        }
        for name in ["", "uuid[]", "uuid ", " uuid", "u-uid", "uu.id", "uuid\0", "üuid"] {
            assert!(!is_plain_name(name.as_bytes()), "{name:?}");
        }
    }
}

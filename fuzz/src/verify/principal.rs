//! The model of who acts: the refusal, if any, of parameters that disagree with the principal
//! of an accepted request, written from the documented rules.

/// The refusal code for `pairs` (in request order) on a request authenticated by `method`
/// (the crate's short names) as `client`, for `user`, or `None` when they agree:
///
/// * an `access_token` parameter where no user's token is the credential: 232;
/// * a `client_id` naming another client than the one that authenticated: 419 for
///   janrain-oauth (the token's client), 232 otherwise;
/// * for a user's token: a token for no user 412; a name that is not ASCII letters, digits
///   and `_` 200; a name that folds (letter case and `_` ignored) to `uuid`, `id`,
///   `keyattribute` or `keyvalue` 422, unless it is the first such name, spelled `uuid`, with
///   the token's user as its value.
pub(crate) fn principal_outcome(
    method: &str,
    client: Option<&str>,
    user: Option<&str>,
    pairs: &[(String, String)],
) -> Option<u16> {
    let for_user = matches!(method, "oauth" | "login_client_token");
    if !for_user && pairs.iter().any(|(k, _)| k == "access_token") {
        return Some(232);
    }
    if let (Some(client), Some((_, named))) =
        (client, pairs.iter().find(|(k, _)| k == "client_id"))
        && named != client
    {
        return Some(if method == "oauth" { 419 } else { 232 });
    }
    if !for_user {
        return None;
    }
    let Some(user) = user else {
        return Some(412);
    };
    let mut addressing = 0;
    for (key, value) in pairs {
        let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return Some(200);
        }
        let folded: String = key
            .chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if ["uuid", "id", "keyattribute", "keyvalue"].contains(&folded.as_str()) {
            addressing += 1;
            if key != "uuid" || value != user || addressing > 1 {
                return Some(422);
            }
        }
    }
    None
}

//! Requests made with a user's access token (janrain-oauth, in the header or as the
//! `access_token` parameter), with parameters that try to address someone else's record,
//! and the model's prediction for them.

use super::*;

#[derive(Arbitrary, Debug)]
pub(crate) enum UserTokenPick {
    Grant(u8),
    Text(String),
}

/// A parameter name: one that addresses a record in some spelling, or any text.
#[derive(Arbitrary, Debug)]
pub(crate) enum NamePick {
    /// `uuid`, `id`, `key_attribute` or `key_value`, with some letters upper case, and maybe
    /// an `_` or another character put in.
    Addressing {
        which: u8,
        upper: u8,
        insert: Option<(u8, char)>,
    },
    Text(String),
}

/// A parameter value: the token's user, another user, or any text.
#[derive(Arbitrary, Debug)]
pub(crate) enum ValuePick {
    TokenUser,
    OtherUser,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub(crate) struct UserReq {
    pub(crate) op: u8,
    /// Any operation (else one of those that take a user's token).
    pub(crate) any_op: bool,
    pub(crate) token: UserTokenPick,
    pub(crate) in_header: bool,
    pub(crate) get: bool,
    pub(crate) params: Vec<(NamePick, ValuePick)>,
    pub(crate) delivery: Delivery,
}

const ADDRESSING: [&str; 4] = ["uuid", "id", "key_attribute", "key_value"];

fn name(pick: &NamePick) -> String {
    match pick {
        NamePick::Addressing {
            which,
            upper,
            insert,
        } => {
            let base = ADDRESSING[usize::from(*which) % ADDRESSING.len()];
            let mut name: Vec<char> = base
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if upper & (1 << (i % 8)) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            if let Some((at, c)) = insert {
                let at = usize::from(*at) % (name.len() + 1);
                name.insert(at, *c);
            }
            name.into_iter().collect()
        }
        NamePick::Text(t) => t.clone(),
    }
}

pub(crate) fn user(config: Config, input: UserReq) {
    let w = world();
    let op = if input.any_op {
        op_at(input.op)
    } else {
        let ops: Vec<&Operation> = w
            .catalog
            .iter()
            .filter(|op| op.accepts(AuthMethod::OAuth))
            .collect();
        ops[usize::from(input.op) % ops.len()]
    };
    // The parameter way needs an operation that takes it: any other reads the request as
    // another kind, which the other inputs model.
    if !input.in_header && !op.accepts(AuthMethod::OAuth) {
        return;
    }
    let token = match &input.token {
        UserTokenPick::Grant(i) => w.grants[usize::from(*i) % w.grants.len()].token.clone(),
        UserTokenPick::Text(t) => t.clone(),
    };
    let grant = w.grants.iter().find(|g| g.token == token);
    let token_user = grant
        .and_then(|g| g.uuid.clone())
        .unwrap_or_else(|| "nobody".to_owned());
    let mut params: Vec<(String, String)> = Vec::new();
    if !input.in_header {
        params.push(("access_token".into(), token.clone()));
    }
    for (name_pick, value_pick) in input.params.iter().take(MAX_PARAMS) {
        let name = name(name_pick);
        if name == "access_token" || name == "client_id" {
            continue;
        }
        let value = match value_pick {
            ValuePick::TokenUser => token_user.clone(),
            ValuePick::OtherUser => "someone-else".to_owned(),
            ValuePick::Text(t) => t.clone(),
        };
        params.push((name, value));
    }
    let header = if input.in_header {
        match HeaderValue::from_str(&format!("OAuth {token}")) {
            Ok(value) => Some(value),
            Err(_) => return,
        }
    } else {
        None
    };
    let encoded = encode_urlencoded(&params);
    let method = if input.get { Method::GET } else { Method::POST };
    let uri = if input.get && !encoded.is_empty() {
        format!("{}?{encoded}", op.path())
    } else {
        op.path().to_owned()
    };
    let body = if input.get { String::new() } else { encoded };
    let delivery = (!input.get).then_some(input.delivery);
    let mut request = form_request(&uri, method.clone(), body.as_bytes(), delivery);
    if let Some(value) = &header {
        request.headers_mut().insert(AUTHORIZATION, value.clone());
    }
    if let Some(d) = delivery {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
        if let Some(n) = d.declared(body.len()) {
            request
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(n));
        }
    }

    // The model. A header token that `from_header` would not take (not visible ASCII after
    // the scheme) is another scheme's header: only the invariants are checked for it.
    let header_is_oauth = !input.in_header
        || (!token.trim_matches(' ').is_empty()
            && token.trim_matches(' ').bytes().all(|b| b.is_ascii_graphic()));
    let (query_pairs, body_pairs) = if input.get {
        (params.clone(), Vec::new())
    } else {
        (Vec::new(), params.clone())
    };
    let form = delivery.map(|d| (body.as_bytes(), d));
    let expect = if method_refused(config, op, &method) {
        Some(Expect::Refuse(405))
    } else if !header_is_oauth {
        None
    } else if input.in_header && !op.accepts(AuthMethod::OAuth) && !op.accepts(AuthMethod::None)
    {
        Some(Expect::Refuse(424))
    } else if let Some(code) = params_outcome(&query_pairs, form, &body_pairs) {
        Some(Expect::Refuse(code))
    } else if input.in_header && params.iter().any(|(k, _)| k == "access_token") {
        Some(Expect::Refuse(232))
    } else {
        // The header's token is taken without the spaces around it.
        let sent = if input.in_header {
            token.trim_matches(' ')
        } else {
            token.as_str()
        };
        Some(match w.grants.iter().find(|g| g.token == sent) {
            None => Expect::Refuse(412),
            Some(g) if g.expires_at <= w.now => Expect::Refuse(414),
            Some(g) => {
                match principal_outcome("oauth", Some(&g.client_id), g.uuid.as_deref(), &params) {
                    Some(code) => Expect::Refuse(code),
                    None => Expect::Accept(Some(g.client_id.clone()), "oauth"),
                }
            }
        })
    };
    let answer = call(&layer(config), request);
    let complete = delivery.is_none_or(|d| d.end == End::Complete);
    let got = check_answer(config, &answer, complete.then_some(body.as_bytes()));
    tally("user", &got);
    if let Some(expect) = expect {
        assert_eq!(got, expect, "user-token request: {input:?}");
    }
}

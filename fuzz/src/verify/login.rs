//! Login-client requests (with and without an access token), and the model's prediction for
//! them.

use super::*;

#[derive(Arbitrary, Debug)]
pub(crate) enum ClientPick {
    Missing,
    Known(u8),
    Ghost,
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub(crate) enum TokenPick {
    None,
    Grant(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub(crate) struct Login {
    pub(crate) op: u8,
    pub(crate) client: ClientPick,
    pub(crate) token: TokenPick,
    pub(crate) get: bool,
    pub(crate) extra: Vec<(String, String)>,
    pub(crate) delivery: Delivery,
}

pub(crate) fn login(config: Config, input: Login) {
    let w = world();
    let login_ops: Vec<&Operation> = w
        .catalog
        .iter()
        .filter(|op| {
            op.accepts(AuthMethod::LoginClient) || op.accepts(AuthMethod::LoginClientWithToken)
        })
        .collect();
    let op = login_ops[usize::from(input.op) % login_ops.len()];
    let mut params: Vec<(String, String)> = Vec::new();
    let client_id = match &input.client {
        ClientPick::Missing => None,
        ClientPick::Known(i) => Some(w.clients[usize::from(*i) % w.clients.len()].id.clone()),
        ClientPick::Ghost => Some("ghost_client".to_owned()),
        ClientPick::Text(t) => Some(t.clone()),
    };
    if let Some(id) = &client_id {
        params.push(("client_id".into(), id.clone()));
    }
    let token = match &input.token {
        TokenPick::None => None,
        TokenPick::Grant(i) => Some(w.grants[usize::from(*i) % w.grants.len()].token.clone()),
        TokenPick::Text(t) => Some(t.clone()),
    };
    if let Some(t) = &token {
        params.push(("access_token".into(), t.clone()));
    }
    params.extend(
        input
            .extra
            .iter()
            .filter(|(k, _)| k != "client_id" && k != "access_token")
            .cloned(),
    );
    let encoded = encode_urlencoded(&params);
    let method = if input.get { Method::GET } else { Method::POST };
    let (uri, body) = if input.get {
        let uri = if encoded.is_empty() {
            op.path().to_owned()
        } else {
            format!("{}?{encoded}", op.path())
        };
        (uri, String::new())
    } else {
        (op.path().to_owned(), encoded)
    };
    let delivery = (!input.get).then_some(input.delivery);
    let mut request = form_request(&uri, method.clone(), body.as_bytes(), delivery);
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

    let accepts = op.auth();
    let needs_token = accepts.contains(AuthMethod::LoginClientWithToken)
        && !accepts.contains(AuthMethod::LoginClient);
    let query_count = if input.get { params.len() } else { 0 };
    let form = delivery.map(|d| (body.as_bytes(), d));
    let known = client_id.as_deref().and_then(|id| {
        w.clients
            .iter()
            .find(|c| c.id == id && ClientId::check(id).is_ok())
    });
    let (query_pairs, body_pairs) = if input.get {
        (params.clone(), Vec::new())
    } else {
        (Vec::new(), params.clone())
    };
    debug_assert_eq!(query_pairs.len(), query_count);
    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if let Some(code) = params_outcome(&query_pairs, form, &body_pairs) {
        Expect::Refuse(code)
    } else if client_id.is_none() {
        Expect::Refuse(100)
    } else if let Some(client) = known {
        if !op.permits(client.features) {
            Expect::Refuse(403)
        } else {
            match &token {
                None if needs_token => Expect::Refuse(100),
                Some(t) if accepts.contains(AuthMethod::LoginClientWithToken) => {
                    match w.grants.iter().find(|g| &g.token == t) {
                        None => Expect::Refuse(412),
                        Some(g) if g.client_id != client.id => Expect::Refuse(419),
                        Some(g) if g.expires_at <= w.now => Expect::Refuse(414),
                        Some(g) => match principal_outcome(
                            "login_client_token",
                            Some(&client.id),
                            g.uuid.as_deref(),
                            &params,
                        ) {
                            Some(code) => Expect::Refuse(code),
                            None => Expect::Accept(Some(client.id.clone()), "login_client_token"),
                        },
                    }
                }
                _ => match principal_outcome("login_client", Some(&client.id), None, &params) {
                    Some(code) => Expect::Refuse(code),
                    None => Expect::Accept(Some(client.id.clone()), "login_client"),
                },
            }
        }
    } else {
        Expect::Refuse(402)
    };
    let answer = call(&layer(config), request);
    let complete = delivery.is_none_or(|d| d.end == End::Complete);
    let got = check_answer(config, &answer, complete.then_some(body.as_bytes()));
    tally("login", &got);
    assert_eq!(got, expect, "login-client request: {input:?}");
}

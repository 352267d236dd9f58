//! Basic requests, with deliberate faults, and the model's prediction for them.

use super::*;

#[derive(Arbitrary, Debug)]
pub(crate) struct BasicReq {
    pub(crate) op: u8,
    pub(crate) client: u8,
    pub(crate) secret: u8,
    pub(crate) unknown_client: bool,
    pub(crate) wrong_secret: Option<String>,
    pub(crate) get: bool,
    pub(crate) body: Vec<u8>,
    pub(crate) chunk: u8,
}

pub(crate) fn basic(config: Config, input: BasicReq) {
    let w = world();
    let op = op_at(input.op);
    let client = &w.clients[usize::from(input.client) % w.clients.len()];
    let id = if input.unknown_client {
        "ghost_client"
    } else {
        client.id.as_str()
    };
    let secret = input.wrong_secret.clone().unwrap_or_else(|| {
        client.secrets[usize::from(input.secret) % client.secrets.len()].clone()
    });
    let Ok(secret_value) = ClientSecret::new(secret.clone()) else {
        return;
    };
    let header = basic_header(&ClientId::new(id).unwrap(), &secret_value);
    if header.len() > "Basic ".len() + janrain_auth::scheme::MAX_BASIC_LEN {
        return;
    }
    let method = if input.get { Method::GET } else { Method::POST };
    let mut request = Request::new(FuzzBody::new(&input.body, input.chunk, End::Complete));
    *request.method_mut() = method.clone();
    *request.uri_mut() = op.path().parse().unwrap();
    request.headers_mut().insert(AUTHORIZATION, header);
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));

    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if !op.accepts(AuthMethod::Basic) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(424)
    } else if input.unknown_client || !client.secrets.contains(&secret) {
        Expect::Refuse(402)
    } else if !op.permits(client.features) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(403)
    } else if input.body.len() > BODY_LIMIT {
        // The layer reads every body it lets through, under its limit.
        Expect::Refuse(230)
    } else {
        Expect::Accept(Some(client.id.clone()), "basic")
    };
    let answer = call(&layer(config), request);
    let got = check_answer(config, &answer, Some(&input.body));
    tally("basic", &got);
    assert_eq!(got, expect, "Basic request: {input:?}");
}

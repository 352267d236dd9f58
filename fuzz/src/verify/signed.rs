//! janrain-signed requests, with deliberate faults, and the model's prediction for them.

use super::*;
use crate::hmac_block;

#[derive(Arbitrary, Debug)]
pub(crate) struct Signed {
    pub(crate) op: u8,
    pub(crate) client: u8,
    pub(crate) secret: u8,
    pub(crate) unknown_client: bool,
    pub(crate) wrong_key: Option<String>,
    pub(crate) date_offset: i16,
    pub(crate) raw_date: Option<String>,
    pub(crate) get: bool,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) query_params: Vec<(String, String)>,
    pub(crate) sample_form: bool,
    pub(crate) delivery: Delivery,
    pub(crate) send_twice: bool,
}

pub(crate) fn signed(config: Config, input: Signed) {
    let w = world();
    let op = op_at(input.op);
    let client = &w.clients[usize::from(input.client) % w.clients.len()];
    let id = if input.unknown_client {
        "ghost_client"
    } else {
        client.id.as_str()
    };
    let secret = &client.secrets[usize::from(input.secret) % client.secrets.len()];
    let key_text = input.wrong_key.clone().unwrap_or_else(|| secret.clone());
    let date_text = match &input.raw_date {
        Some(d) => d.clone(),
        None => w
            .now
            .saturating_add_seconds(i64::from(input.date_offset % 400))
            .to_string(),
    };
    let Ok(date_value) = HeaderValue::from_str(&date_text) else {
        return;
    };
    let (body_pairs, query_pairs) = if input.get {
        (
            Vec::new(),
            [input.query_params.clone(), input.params.clone()].concat(),
        )
    } else {
        (input.params.clone(), input.query_params.clone())
    };
    let query = encode_urlencoded(&query_pairs);
    let body = encode_urlencoded(&body_pairs);
    let path_and_query = if query.is_empty() {
        op.path().to_owned()
    } else {
        format!("{}?{query}", op.path())
    };
    let all: Vec<(String, String)> = [query_pairs.clone(), body_pairs.clone()].concat();
    let form = if input.sample_form {
        Canonicalization::SAMPLE_CODE
    } else {
        Canonicalization::CANONICAL
    };
    let sts = StringToSign::new(op.path(), &date_text, &all);
    let signature = SigningKey::new(&key_text).sign(&sts.with_form(form));
    let header = signature_header(&ClientId::new(id).unwrap(), &signature);
    let method = if input.get { Method::GET } else { Method::POST };

    let delivery = (!input.get).then_some(input.delivery);
    let build = || {
        let mut request = form_request(&path_and_query, method.clone(), body.as_bytes(), delivery);
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, header.clone());
        headers.insert(DATE, date_value.clone());
        if let Some(d) = delivery {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
            if let Some(n) = d.declared(body.len()) {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(n));
            }
        }
        request
    };

    // The model.
    let expect = if method_refused(config, op, &method) {
        Expect::Refuse(405)
    } else if !op.accepts(AuthMethod::Signature) && !op.accepts(AuthMethod::None) {
        Expect::Refuse(424)
    } else {
        match Datetime::parse_bytes(date_text.as_bytes()) {
            Err(_) => Expect::Refuse(432),
            Ok(dt)
                if !config
                    .window
                    .admits(w.now.unix_seconds() - dt.unix_seconds()) =>
            {
                Expect::Refuse(433)
            }
            Ok(_) if input.unknown_client => Expect::Refuse(402),
            Ok(_) => {
                let sent_form = delivery.map(|d| (body.as_bytes(), d));
                if let Some(code) = params_outcome(&query_pairs, sent_form, &body_pairs) {
                    Expect::Refuse(code)
                } else {
                    let same_bytes = sts.with_form(form).to_bytes() == sts.to_bytes();
                    let form_ok = !input.sample_form || config.lenient_forms || same_bytes;
                    let key_ok = client
                        .secrets
                        .iter()
                        .any(|s| hmac_block(s.as_bytes()) == hmac_block(key_text.as_bytes()));
                    if !(form_ok && key_ok) {
                        Expect::Refuse(431)
                    } else if !op.permits(client.features) && !op.accepts(AuthMethod::None) {
                        Expect::Refuse(403)
                    } else if let Some(code) =
                        principal_outcome("signature", Some(&client.id), None, &all)
                    {
                        Expect::Refuse(code)
                    } else {
                        Expect::Accept(Some(client.id.clone()), "signature")
                    }
                }
            }
        }
    };

    let layer = layer(config);
    let answer = call(&layer, build());
    let complete = delivery.is_none_or(|d| d.end == End::Complete);
    let sent = complete.then_some(body.as_bytes());
    let got = check_answer(config, &answer, sent);
    tally("signed", &got);
    assert_eq!(got, expect, "signed request: {input:?}");
    if input.send_twice {
        let again = check_answer(config, &call(&layer, build()), sent);
        let want = match (&expect, config.replay) {
            (Expect::Accept(..), true) => Expect::Refuse(434),
            _ => expect,
        };
        tally("signed twice", &again);
        assert_eq!(again, want, "the same signed request again: {input:?}");
    }
}

//! Raw requests: arbitrary method, path, query, headers and body.

use super::*;

#[derive(Arbitrary, Debug)]
pub(crate) enum PathPick {
    Catalog(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
pub(crate) struct Raw {
    pub(crate) method: u8,
    pub(crate) path: PathPick,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(u8, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
    pub(crate) chunk: u8,
    pub(crate) end: End,
}

pub(crate) const HEADER_NAMES: [&str; 6] = [
    "authorization",
    "date",
    "content-type",
    "content-length",
    "x-other",
    "authorization",
];

pub(crate) const METHODS: [Method; 4] = [Method::POST, Method::GET, Method::PUT, Method::DELETE];

pub(crate) fn raw(config: Config, input: Raw) {
    let path = match &input.path {
        PathPick::Catalog(i) => op_at(*i).path().to_owned(),
        PathPick::Text(t) => t.clone(),
    };
    let uri = match &input.query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let Ok(uri) = uri.parse::<http::Uri>() else {
        return;
    };
    if uri.scheme().is_some() || uri.authority().is_some() {
        return;
    }
    let mut request = Request::new(FuzzBody::new(&input.body, input.chunk, input.end));
    *request.method_mut() = METHODS[usize::from(input.method) % METHODS.len()].clone();
    *request.uri_mut() = uri;
    for (name, value) in input.headers.iter().take(8) {
        let name = HEADER_NAMES[usize::from(*name) % HEADER_NAMES.len()];
        let value = if name == "content-type" && value.first() == Some(&0) {
            HeaderValue::from_static(FORM)
        } else {
            match HeaderValue::from_bytes(value) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        request.headers_mut().append(name, value);
    }
    let sent = (input.end == End::Complete).then_some(input.body.as_slice());
    let answer = call(&layer(config), request);
    let got = check_answer(config, &answer, sent);
    tally("raw", &got);
}

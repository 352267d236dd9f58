//! What the well-formed kinds share: picking an operation, framing and delivering a form body,
//! and the model of the parameter-collection step.

use super::*;

pub(crate) fn op_at(i: u8) -> &'static Operation {
    let catalog = &world().catalog;
    catalog.iter().nth(usize::from(i) % catalog.len()).unwrap()
}

pub(crate) fn method_refused(config: Config, op: &Operation, method: &Method) -> bool {
    config.enforce_methods && op.method() != method
}

/// How a form body is framed and how it arrives.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub(crate) struct Delivery {
    /// `Content-Length`: none, the true length, or a claim.
    pub(crate) length: Option<Option<u16>>,
    pub(crate) end: End,
    pub(crate) chunk: u8,
}

impl Delivery {
    pub(crate) fn declared(&self, actual: usize) -> Option<u64> {
        self.length
            .map(|claim| claim.map_or(actual as u64, u64::from))
    }
}

/// The refusal the parameter-collection step gives, if any, for a request whose parameters
/// are `query` pairs in the query string and, on POST, a form body: the declared length, the
/// query string's pairs, parameters in both places, then the body as it arrives (over the
/// limit, failing, stalling), then its pairs, then a repeated `client_id` / `access_token`.
pub(crate) fn params_outcome(
    query: &[(String, String)],
    form: Option<(&[u8], Delivery)>,
    body_pairs: &[(String, String)],
) -> Option<u16> {
    if form.is_some_and(|(body, d)| {
        d.declared(body.len())
            .is_some_and(|n| n > BODY_LIMIT as u64)
    }) {
        return Some(230);
    }
    if query.len() > MAX_PARAMS {
        return Some(200);
    }
    if form.is_some() && !query.is_empty() {
        return Some(232);
    }
    if let Some(code) = collect_outcome(query.len(), form) {
        return Some(code);
    }
    let all = || query.iter().chain(body_pairs);
    let repeated = |name: &str| all().filter(|(k, _)| k == name).count() > 1;
    (repeated("client_id") || repeated("access_token")).then_some(232)
}

/// The refusal of reading the query string's and the form body's pairs, if any.
pub(crate) fn collect_outcome(query: usize, form: Option<(&[u8], Delivery)>) -> Option<u16> {
    if query > MAX_PARAMS {
        return Some(200);
    }
    let (body, delivery) = form?;
    if delivery
        .declared(body.len())
        .is_some_and(|n| n > BODY_LIMIT as u64)
        || body.len() > BODY_LIMIT
    {
        return Some(230);
    }
    match delivery.end {
        End::Stall => return Some(231),
        End::Error => return Some(200),
        End::Complete => {}
    }
    let pairs = ParamList::from_urlencoded(body).map_or(usize::MAX, |l| l.len());
    (query + pairs > MAX_PARAMS).then_some(200)
}

pub(crate) fn form_request(
    path_and_query: &str,
    method: Method,
    body: &[u8],
    delivery: Option<Delivery>,
) -> Request<FuzzBody> {
    let body = match delivery {
        Some(d) => FuzzBody::new(body, d.chunk, d.end),
        None => FuzzBody::new(body, 255, End::Complete),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = path_and_query.parse().unwrap();
    request
}

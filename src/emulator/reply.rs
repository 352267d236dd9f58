//! What a replaced operation sees ([`Call`]) and answers ([`Reply`]).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::JanrainError;
use crate::server::{AuthenticatedClient, VerifiedParams};

/// One call of an operation that passed the verification layer, as a replacement answer
/// (see [`EmulatorBuilder::on`](super::EmulatorBuilder::on)) sees it.
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    client: Option<AuthenticatedClient>,
    params: Option<VerifiedParams>,
}

impl Call {
    /// The request's method (a replacement answer is called whatever the method).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path the request was routed on (after any prefix the router removed).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The client the layer authenticated, or `None` where the layer let the request through
    /// without authenticating it (an open operation, an unknown path it was told to allow).
    pub fn client(&self) -> Option<&AuthenticatedClient> {
        self.client.as_ref()
    }

    /// The parameters the layer verified, or `None` where it verified none.
    pub fn params(&self) -> Option<&VerifiedParams> {
        self.params.as_ref()
    }

    /// The first value of the verified parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.as_ref().and_then(|p| p.get(key))
    }

    /// The emulator's echo of this call, as every operation answers without records:
    /// `{"stat":"ok","operation":..,"client_id":..,"auth":..,"params":{..}}` (and `uuid` for a
    /// call as a user). With records, `.on("/entity.update", |call| call.echo())` brings it
    /// back for one operation.
    pub fn echo(&self) -> Reply {
        let empty = crate::params::ParamList::new();
        let params = self
            .params
            .as_ref()
            .map_or(&empty, VerifiedParams::as_param_list);
        Reply::json(&super::answer::echo(
            self.client.as_ref(),
            &self.path,
            params,
        ))
    }
}

/// What an operation answers: a JSON value or a Janrain error, with an HTTP status.
///
/// Built from a `serde_json::Value` (`200`, the value as it is), a [`JanrainError`] (`200`,
/// the `stat:error` envelope, as Identity Cloud answers most operation errors), or a `Result`
/// of either; [`Reply::with_status`] changes the status and [`Reply::with_field`] adds a field
/// (`argument_name`, say). [`Reply::other`] answers what is not JSON at all (a proxy's error
/// page, say).
///
/// `Debug` shows the status, the type and the length of the body: a body may hold a token.
#[derive(Clone)]
pub struct Reply {
    status: StatusCode,
    body: Body,
}

/// What a [`Reply`] holds until it is sent.
#[derive(Clone)]
enum Body {
    Json(Value),
    Error(JanrainError),
    Other {
        content_type: &'static str,
        text: String,
    },
}

impl Reply {
    /// `200` with `value` as the body.
    pub fn json(value: &Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Body::Json(value.clone()),
        }
    }

    /// `200` with the `stat:error` envelope of `error`.
    pub fn error(error: &JanrainError) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Body::Error(error.clone()),
        }
    }

    /// `200` with the `stat:error` envelope of a Janrain error made of `code`, `error` (its
    /// name, such as `record_not_found`) and `description`; add fields with
    /// [`with_field`](Self::with_field):
    ///
    /// ```
    /// use janrain_auth::emulator::Reply;
    ///
    /// let reply = Reply::janrain(200, "invalid_argument", "uuid was not valid for the following reason: invalid uuid")
    ///     .with_field("argument_name", "uuid");
    /// assert!(reply.body().ends_with(r#""argument_name":"uuid"}"#), "{}", reply.body());
    /// ```
    pub fn janrain(code: u16, error: &str, description: impl Into<String>) -> Self {
        Reply::error(&JanrainError {
            code,
            error: error.to_owned(),
            error_description: description.into(),
            request_id: None,
            extra: Default::default(),
        })
    }

    /// `status` with `body` of `content_type`, as it is.
    pub fn other(status: StatusCode, content_type: &'static str, body: impl Into<String>) -> Self {
        Reply {
            status,
            body: Body::Other {
                content_type,
                text: body.into(),
            },
        }
    }

    /// The same body with `status`.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The same reply with the field `name` set to `value`: in a Janrain error's envelope
    /// (`argument_name`, `expected_value`, ...), or in a JSON object answer. A body that is
    /// not a JSON object (a [`Reply::other`], a JSON list) has no fields: it stays as it is.
    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        match &mut self.body {
            Body::Json(Value::Object(map)) => {
                map.insert(name.into(), value.into());
            }
            Body::Error(error) => {
                error.extra.insert(name.into(), value.into());
            }
            Body::Json(_) | Body::Other { .. } => {}
        }
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `Content-Type`: `application/json` unless made by [`Reply::other`].
    pub fn content_type(&self) -> &'static str {
        match &self.body {
            Body::Other { content_type, .. } => content_type,
            Body::Json(_) | Body::Error(_) => JSON,
        }
    }

    /// The body, as it is sent.
    pub fn body(&self) -> String {
        match &self.body {
            Body::Json(value) => value.to_string(),
            Body::Error(error) => error.to_json(),
            Body::Other { text, .. } => text.clone(),
        }
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("body", &format_args!("<{} bytes>", self.body().len()))
            .finish()
    }
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Reply::json(&value)
    }
}

impl From<JanrainError> for Reply {
    fn from(error: JanrainError) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Body::Error(error),
        }
    }
}

impl<T: Into<Reply>, E: Into<Reply>> From<Result<T, E>> for Reply {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(ok) => ok.into(),
            Err(err) => err.into(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let content_type = self.content_type();
        (
            self.status,
            [(header::CONTENT_TYPE, content_type)],
            self.body(),
        )
            .into_response()
    }
}

const JSON: &str = "application/json";

/// A replacement answer, as [`EmulatorBuilder::on`](super::EmulatorBuilder::on) stores it.
pub(super) type Handler = Arc<dyn Fn(Call) -> Reply + Send + Sync>;

/// Run a replacement answer on a request that passed the layer.
pub(super) fn replaced(handler: &Handler, request: Request) -> Reply {
    let call = Call {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        client: request.extensions().get::<AuthenticatedClient>().cloned(),
        params: request.extensions().get::<VerifiedParams>().cloned(),
    };
    handler(call)
}

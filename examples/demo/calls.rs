//! One call of the demo and its outcome: the matrix's operations and columns, and what the
//! catalog says each cell must be.

use std::sync::Arc;

use janrain_auth::client::UseClient;
use janrain_auth::credentials::ApiClient;
use janrain_auth::error::JanrainError;
use janrain_auth::params::encode_urlencoded;
use janrain_auth::permissions::{AuthMethod, Catalog, Operation};
use reqwest_middleware::ClientWithMiddleware;

use crate::user::OTHER_USER;

/// The operations the matrix shows: every API family, every auth method.
pub const OPERATIONS: [&str; 17] = [
    "/access/getAuthorizationCode",
    "/access/getAccessToken",
    "/oauth/token",
    "/access/getVerificationCode",
    "/access/useVerificationCode",
    "/oauth/auth_native_traditional",
    "/oauth/update_profile_native",
    "/entity",
    "/entity.find",
    "/entity.update",
    "/entity.deleteAccess",
    "/entityType",
    "/entityType.list",
    "/entityType.getAccessSchema",
    "/clients/list",
    "/settings/get_default",
    "/settings/items",
];

/// A column of the matrix: a client and the secret it signs with, or a user's access token.
pub struct Column {
    pub label: String,
    pub client: Arc<ApiClient>,
    /// Call as the user this token was issued for (janrain-oauth) instead of as the client.
    pub user_token: Option<String>,
}

/// What came back: `ok`, or a Janrain error code with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Refused {
        status: u16,
        code: u16,
        error: String,
    },
    Broken(String),
}

impl Outcome {
    pub fn cell(&self) -> String {
        match self {
            Outcome::Ok => "ok".into(),
            Outcome::Refused { code, .. } => code.to_string(),
            Outcome::Broken(_) => "ERR".into(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Ok => "200 ok".into(),
            Outcome::Refused {
                status,
                code,
                error,
            } => format!("{status} {code} {error}"),
            Outcome::Broken(why) => format!("transport error: {why}"),
        }
    }
}

pub async fn outcome(response: Result<reqwest::Response, impl std::fmt::Display>) -> Outcome {
    answer(response).await.0
}

/// The outcome, and the answer's JSON (`null` when it is not JSON).
pub async fn answer(
    response: Result<reqwest::Response, impl std::fmt::Display>,
) -> (Outcome, serde_json::Value) {
    let response = match response {
        Ok(r) => r,
        Err(e) => return (Outcome::Broken(e.to_string()), serde_json::Value::Null),
    };
    let status = response.status().as_u16();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return (Outcome::Broken(e.to_string()), serde_json::Value::Null),
    };
    let json = serde_json::from_slice(&body).unwrap_or_default();
    let outcome = match JanrainError::from_body(&body) {
        Some(e) => Outcome::Refused {
            status,
            code: e.code,
            error: e.error,
        },
        None if status == 200 => Outcome::Ok,
        None => Outcome::Broken(format!("HTTP {status}: {}", String::from_utf8_lossy(&body))),
    };
    (outcome, json)
}

pub fn form(params: &[(&str, &str)]) -> String {
    encode_urlencoded(params)
}

pub struct Demo {
    pub base: String,
    /// Signs with whichever client a request names in `UseClient`.
    pub signed: ClientWithMiddleware,
    /// No middleware: login-client operations and hand-made mistakes.
    pub plain: reqwest::Client,
    pub catalog: Catalog,
}

impl Demo {
    /// Call `op` as `column`'s client, the way the operation authenticates.
    pub async fn call(&self, op: &Operation, column: &Column) -> Outcome {
        let url = format!("{}{}", self.base, op.path());
        let id = column.client.id().as_str();
        if let Some(token) = &column.user_token {
            // A user's token names no record: it reaches the user's own.
            let mut params = vec![("type_name", "user")];
            if op.path() == "/entity.update" {
                params.push(("value", "{}"));
            }
            let response = self
                .plain
                .post(&url)
                .header("authorization", format!("OAuth {token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&params))
                .send()
                .await;
            return outcome(response).await;
        }
        if op.auth().takes_header() {
            let mut params = vec![("type_name", "user")];
            match op.path() {
                // The emulator issues a real token: it needs the user and the login client.
                "/access/getAccessToken" => {
                    params.extend([("uuid", OTHER_USER), ("for_client_id", "login_client")]);
                }
                // The record operations need a record (an empty update changes nothing but
                // its lastUpdated).
                "/entity" => params.push(("uuid", OTHER_USER)),
                "/entity.update" => params.extend([("uuid", OTHER_USER), ("value", "{}")]),
                _ => {}
            }
            let body = form(&params);
            let response = self
                .signed
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .with_extension(UseClient(column.client.clone()))
                .send()
                .await;
            return outcome(response).await;
        }
        let mut params = vec![("client_id", id)];
        if op.accepts(AuthMethod::LoginClientWithToken) {
            params.push(("access_token", "demo-access-token"));
        }
        if op.accepts(AuthMethod::None) {
            params = vec![("verification_code", "demo-code")];
        }
        let response = self
            .plain
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&params))
            .send()
            .await;
        outcome(response).await
    }

    /// What the catalog says the call must give.
    pub fn expected(&self, op: &Operation, column: &Column) -> Outcome {
        if column.user_token.is_some() {
            // A user's token reaches the user-record operations (and the open ones) only.
            return if op.accepts(AuthMethod::OAuth) || op.accepts(AuthMethod::None) {
                Outcome::Ok
            } else {
                Outcome::Refused {
                    status: 401,
                    code: 424,
                    error: "auth_method_not_accepted".into(),
                }
            };
        }
        if op.accepts(AuthMethod::None) || op.permits(column.client.features()) {
            Outcome::Ok
        } else {
            Outcome::Refused {
                status: 403,
                code: 403,
                error: "client_permission_error".into(),
            }
        }
    }
}

pub fn matches(got: &Outcome, want: &Outcome) -> bool {
    match (got, want) {
        (Outcome::Ok, Outcome::Ok) => true,
        (
            Outcome::Refused {
                code: a, status: s, ..
            },
            Outcome::Refused {
                code: b, status: t, ..
            },
        ) => a == b && s == t,
        _ => false,
    }
}

//! A user's flow over janrain-oauth: a token from `/access/getAccessToken`, then the user's
//! own record read, updated and read back with it, and another user's refused.

use std::sync::Arc;

use janrain_auth::client::UseClient;
use janrain_auth::credentials::ApiClient;

use crate::calls::{self, Demo, Outcome, form, outcome};

/// The user the demo's user flow acts for, and another one.
pub const USER: &str = "7a1b0c9e-5d1f-4a52-9a36-2f6d2b6b1e11";
pub const OTHER_USER: &str = "0f3e2d1c-4b5a-4968-8776-655443322110";

pub type Expectation = Option<(u16, u16)>;

/// An issuer client gets an access token for [`USER`], for the login client; with it, the
/// user's own record is read, updated and read back, and another user's is refused. The token,
/// if the server issued one.
pub async fn user_flow(
    demo: &Demo,
    clients: &[Arc<ApiClient>],
) -> Result<(Vec<(String, Outcome, Expectation)>, Option<String>), Box<dyn std::error::Error>> {
    let base = &demo.base;
    let issuer = clients
        .iter()
        .find(|c| c.id().as_str() == "issuer_client")
        .cloned()
        .ok_or("no issuer_client")?;
    let mut out = Vec::new();
    let response = demo
        .signed
        .post(format!("{base}/access/getAccessToken"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("uuid", USER),
            ("type_name", "user"),
            ("for_client_id", "login_client"),
        ]))
        .with_extension(UseClient(issuer))
        .send()
        .await?;
    let status = response.status().as_u16();
    let answer: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    let token = answer["access_token"].as_str().map(str::to_owned);
    let got = match (&token, status) {
        (Some(_), 200) => Outcome::Ok,
        _ => Outcome::Broken(format!("HTTP {status}: {answer}")),
    };
    out.push((
        "issuer_client gets an access token for the user (getAccessToken)".into(),
        got,
        None,
    ));
    let Some(token) = token else {
        return Ok((out, None));
    };
    let as_user = |path: &str, params: &[(&str, &str)]| {
        demo.plain
            .post(format!("{base}{path}"))
            .header("authorization", format!("OAuth {token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params))
            .send()
    };
    let got = outcome(as_user("/entity", &[("type_name", "user")]).await).await;
    out.push((
        "the user reads their /entity with the token".into(),
        got,
        None,
    ));
    let got = outcome(
        as_user(
            "/entity.update",
            &[
                ("type_name", "user"),
                ("uuid", USER),
                ("value", r#"{"givenName":"Zoë"}"#),
            ],
        )
        .await,
    )
    .await;
    out.push(("the user updates their own record".into(), got, None));
    let (got, read) = calls::answer(as_user("/entity", &[("type_name", "user")]).await).await;
    let got = match (got, &read["result"]) {
        (Outcome::Ok, record) if record["uuid"] == USER && record["givenName"] == "Zoë" => {
            Outcome::Ok
        }
        (Outcome::Ok, record) => Outcome::Broken(format!("read back {record}")),
        (other, _) => other,
    };
    out.push(("the user reads the change back".into(), got, None));
    let got = outcome(
        as_user(
            "/entity.update",
            &[("type_name", "user"), ("uuid", OTHER_USER), ("value", "{}")],
        )
        .await,
    )
    .await;
    out.push((
        "the same token names another user's uuid".into(),
        got,
        Some((403, 422)),
    ));
    Ok((out, Some(token)))
}

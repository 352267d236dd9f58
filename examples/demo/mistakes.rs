//! Deliberate mistakes, each with the answer the error table gives it.

use std::sync::Arc;

use janrain_auth::client::{AuthMode, ClockSkewRetry, JanrainSigner, RequestSigner, UseClient};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::scheme::{Datetime, ManualClock, OffsetClock, SystemClock};
use reqwest_middleware::ClientWithMiddleware;

use crate::BODY_LIMIT;
use crate::calls::{Demo, Outcome, form, outcome};
use crate::user::Expectation;

pub async fn mistakes(
    demo: &Demo,
    clients: &[Arc<ApiClient>],
) -> Result<Vec<(String, Outcome, Expectation)>, Box<dyn std::error::Error>> {
    let base = &demo.base;
    let reader = clients
        .iter()
        .find(|c| c.id().as_str() == "reader_client")
        .cloned()
        .ok_or("no reader_client")?;
    let find = format!("{base}/entity.find");
    let body = form(&[("type_name", "user")]);
    let post = |client: &ClientWithMiddleware| {
        client
            .post(&find)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
    };
    let signer_for =
        |client: Arc<ApiClient>| RequestSigner::builder(client).base_url(base.as_str());
    let with = |signer: RequestSigner| {
        reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(ClockSkewRetry::new())
            .with(JanrainSigner::new(signer))
            .build()
    };
    let mut out = Vec::new();

    // A wrong secret, signed and Basic.
    let impostor = Arc::new(
        ApiClient::new(reader.id().clone(), ClientSecret::new("not-the-secret")?)
            .with_features(reader.features()),
    );
    let got = outcome(
        post(&with(signer_for(impostor.clone()).build()?))
            .send()
            .await,
    )
    .await;
    out.push(("wrong secret, janrain-signed".into(), got, Some((401, 431))));
    let got = outcome(
        post(&with(signer_for(impostor).mode(AuthMode::Basic).build()?))
            .send()
            .await,
    )
    .await;
    out.push(("wrong secret, Basic".into(), got, Some((401, 402))));
    // A client id the server does not know.
    let ghost = Arc::new(ApiClient::new(
        ClientId::new("ghost_client")?,
        ClientSecret::new("whatever")?,
    ));
    let got = outcome(post(&with(signer_for(ghost).build()?)).send().await).await;
    out.push(("unknown client id".into(), got, Some((401, 402))));

    // A clock ten minutes slow: refused, unless the signer learns the offset and retries.
    let slow = OffsetClock::new(SystemClock, -600);
    let stubborn = signer_for(reader.clone())
        .clock(slow.clone())
        .learn_clock_skew(false)
        .build()?;
    let got = outcome(post(&with(stubborn)).send().await).await;
    out.push(("client clock 10 min slow".into(), got, Some((401, 433))));
    let learner = signer_for(reader.clone()).clock(slow).build()?;
    // Other parameters than the matrix's call: with the replay guard on, the same parameters
    // signed in the same second would be the same request.
    let got = outcome(
        post(&with(learner))
            .body(form(&[("type_name", "user"), ("max_results", "5")]))
            .send()
            .await,
    )
    .await;
    out.push((
        "client clock 10 min slow, learning the server's Date".into(),
        got,
        None,
    ));

    // The same signed request twice (a clock that stands still makes them identical).
    let now = Datetime::from_system_time(std::time::SystemTime::now())?;
    let frozen = with(
        signer_for(reader.clone())
            .clock(ManualClock::at(now))
            .build()?,
    );
    let replay_body = form(&[
        ("type_name", "user"),
        ("filter", "email = 'zoe@example.com'"),
    ]);
    let send_twice = || {
        frozen
            .post(&find)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(replay_body.clone())
            .send()
    };
    let got = outcome(send_twice().await).await;
    out.push(("a signed request".into(), got, None));
    let got = outcome(send_twice().await).await;
    out.push((
        "the same signed request again (replay guard on)".into(),
        got,
        Some((401, 434)),
    ));

    // Tokens that do not hold, on an operation that takes a user's token.
    let entity = format!("{base}/entity");
    for (what, token, want) in [
        (
            "an unknown token over janrain-oauth",
            "some-user-token",
            (401, 412),
        ),
        (
            "an expired token over janrain-oauth",
            "expired-access-token",
            (401, 414),
        ),
    ] {
        let got = outcome(
            demo.plain
                .post(&entity)
                .header("authorization", format!("OAuth {token}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await,
        )
        .await;
        out.push((what.into(), got, Some(want)));
    }
    // An auth method an operation does not take.
    let login = clients
        .iter()
        .find(|c| c.id().as_str() == "login_client")
        .cloned()
        .ok_or("no login_client")?;
    let native = format!("{base}/oauth/auth_native_traditional");
    let got = outcome(
        with(signer_for(login).build()?)
            .post(&native)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("client_id", "login_client")]))
            .send()
            .await,
    )
    .await;
    out.push((
        "janrain-signed on a login-client operation".into(),
        got,
        Some((401, 424)),
    ));

    // Login-client parameters.
    let update = format!("{base}/oauth/update_profile_native");
    let plain_form = |url: &str, params: &[(&str, &str)]| {
        demo.plain
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(params))
            .send()
    };
    let got =
        outcome(plain_form(&native, &[("signInEmailAddress", "zoe@example.com")]).await).await;
    out.push((
        "login-client operation without client_id".into(),
        got,
        Some((400, 100)),
    ));
    let got = outcome(
        plain_form(
            &update,
            &[
                ("client_id", "login_client"),
                ("access_token", "expired-access-token"),
            ],
        )
        .await,
    )
    .await;
    out.push(("expired access token".into(), got, Some((401, 414))));
    let got = outcome(
        plain_form(
            &update,
            &[
                ("client_id", "login_client"),
                ("access_token", "second-client-token"),
            ],
        )
        .await,
    )
    .await;
    out.push((
        "access token issued to another login client".into(),
        got,
        Some((401, 419)),
    ));

    // A body over the limit.
    let big = "x".repeat(BODY_LIMIT + 1);
    let got = outcome(
        post(&demo.signed)
            .body(form(&[("value", &big)]))
            .with_extension(UseClient(reader))
            .send()
            .await,
    )
    .await;
    out.push((
        format!(
            "a form body of {} bytes (limit {BODY_LIMIT})",
            form(&[("value", &big)]).len()
        ),
        got,
        Some((413, 230)),
    ));
    Ok(out)
}

//! The catalog against the documented tables, and the types' rules.
use super::*;

fn allowed(path: &str) -> String {
    Catalog::identity_cloud()
        .get(path)
        .unwrap()
        .allowed()
        .to_string()
}

#[test]
fn catalog_matches_the_spec_tables() {
    let c = Catalog::identity_cloud();
    assert_eq!(
        c.iter().filter(|o| o.api() == Api::Authentication).count(),
        15
    ); // 14 + alias
    assert_eq!(c.iter().filter(|o| o.api() == Api::Entity).count(), 21);
    assert_eq!(c.iter().filter(|o| o.api() == Api::Legacy).count(), 22);
    assert_eq!(
        allowed("/access/getAuthorizationCode"),
        "owner,access_issuer,direct_access"
    );
    assert_eq!(
        allowed("/access/getVerificationCode"),
        "owner,access_issuer,direct_access"
    );
    assert_eq!(allowed("/entity"), "direct_access,direct_read_access");
    assert_eq!(allowed("/entity.update"), "direct_access");
    assert_eq!(
        allowed("/entity.deleteAccess"),
        "owner,access_issuer,direct_access"
    );
    assert_eq!(
        allowed("/entityType"),
        "owner,access_issuer,direct_access,direct_read_access,login_client"
    );
    assert_eq!(allowed("/settings/items"), "owner");
    assert_eq!(allowed("/oauth/update_profile_native"), "login_client");
    assert_eq!(allowed("/access/useVerificationCode"), "");
    let token = c.get("/oauth/link_account_native").unwrap();
    assert!(
        token.accepts(AuthMethod::LoginClientWithToken) && !token.accepts(AuthMethod::Signature)
    );
    assert!(
        c.get("/oauth/auth_native")
            .unwrap()
            .accepts(AuthMethod::LoginClient)
    );
    assert_eq!(c.get("/clients/list").unwrap().method(), Method::GET);
    for op in &c {
        assert!(
            op.path().starts_with('/') && !op.path().ends_with('/'),
            "{}",
            op.path()
        );
        // No header operation allows metadata alone; every operation needs a feature
        // unless it takes no authentication at all.
        assert_eq!(
            op.allowed().is_empty(),
            op.accepts(AuthMethod::None),
            "{}",
            op.path()
        );
    }
}

#[test]
fn user_overrides_and_removal() {
    let mut c = Catalog::identity_cloud();
    let n = c.len();
    let old = c.insert(Operation::new(
        "/entity.find",
        AuthMethod::Basic.into(),
        Feature::Owner.into(),
    ));
    assert_eq!(
        old.unwrap().allowed(),
        Feature::DirectAccess | Feature::DirectReadAccess
    );
    assert_eq!(c.len(), n);
    assert!(
        !c.get("/entity.find")
            .unwrap()
            .accepts(AuthMethod::Signature)
    );
    assert!(c.remove("/entity").is_some());
    assert!(c.get("/entity").is_none());
    assert_eq!(c.get("/entity.count").unwrap().path(), "/entity.count");
    assert_eq!(
        c.iter().position(|o| o.path() == "/entity.find"),
        c.iter().position(|o| o.name() == "/entity.find")
    );
}

#[test]
fn features_parse_and_print() {
    let f: Features = serde_json::from_str(r#"["login_client","owner"]"#).unwrap();
    assert_eq!(f, Feature::Owner | Feature::LoginClient);
    assert_eq!(
        serde_json::to_string(&f).unwrap(),
        r#"["owner","login_client"]"#
    );
    assert_eq!(format!("{f:?}"), "{Owner, LoginClient}");
    let err = "root".parse::<Feature>().unwrap_err().to_string();
    assert!(err.contains("root") && err.contains("login_client"));
    for feature in Feature::ALL {
        assert_eq!(feature.as_str().parse::<Feature>().unwrap(), feature);
    }
}

//! The data: every operation of Identity Cloud's API-client documentation, with the methods
//! it accepts and the features allowed to call it. The types are in the parent module.

use http::Method;

use super::{Api, AuthMethod, AuthMethods, Feature, Features, Operation};

pub(super) fn builtin() -> Vec<Operation> {
    use AuthMethod::{Basic, LoginClient, LoginClientWithToken, OAuth, Signature};
    use Feature::{
        AccessIssuer as AI, DirectAccess as DA, DirectReadAccess as DR, LoginClient as LC,
        Owner as O,
    };

    let header = Basic | Signature;
    let op =
        |api, path: &'static str, name: &'static str, auth: AuthMethods, allowed: &[Feature]| {
            Operation::new(path, auth, Features::of(allowed))
                .named(name)
                .in_api(api)
        };
    let auth =
        |path, name, allowed: &[Feature]| op(Api::Authentication, path, name, header, allowed);
    let login = |path, name| op(Api::Authentication, path, name, LoginClient.into(), &[LC]);
    let login_token = |path, name| {
        op(
            Api::Authentication,
            path,
            name,
            LoginClientWithToken.into(),
            &[LC],
        )
    };
    let open = |path, name| {
        op(
            Api::Authentication,
            path,
            name,
            AuthMethod::None.into(),
            &[],
        )
    };
    // A user's access token (janrain-oauth) reaches the operations on one user's record:
    // reading it, changing it, replacing it and deleting it, as Janrain's Entity API reference
    // lists them. Searching, counting, creating and the entity types reach many records (or
    // the schema every user shares), and take client credentials only.
    let entity =
        |path, name, allowed: &[Feature]| op(Api::Entity, path, name, header, allowed);
    let user_record =
        |path, name, allowed: &[Feature]| op(Api::Entity, path, name, header | OAuth, allowed);
    let entity_type =
        |path, name, allowed: &[Feature]| op(Api::Entity, path, name, header, allowed);
    let legacy = |path, name, allowed: &[Feature]| op(Api::Legacy, path, name, header, allowed);
    let all = &[O, AI, DA, DR, LC];

    vec![
        // 2.2 Authentication API
        auth(
            "/access/getAuthorizationCode",
            "Get an Authorization Code",
            &[O, AI, DA],
        ),
        auth(
            "/access/getAccessToken",
            "Get an Access Token",
            &[O, AI, DA],
        ),
        auth(
            "/oauth/token",
            "Exchange an Authorization Code",
            &[O, AI, DA],
        ),
        login("/oauth/auth_native", "Complete Social Login"),
        login(
            "/oauth/auth_native_traditional",
            "Complete Traditional Login",
        ),
        login("/oauth/register_native", "Complete Social Registration"),
        login(
            "/oauth/register_native_traditional",
            "Complete Traditional Registration",
        ),
        auth(
            "/access/getVerificationCode",
            "Get a Verification Code",
            &[O, AI, DA],
        ),
        open("/access/useVerificationCode", "Use a Verification Code"),
        open("/access/use_verification_code", "Use a Verification Code"),
        login(
            "/oauth/forgot_password_native",
            "Request a Reset Password Link",
        ),
        login(
            "/oauth/verify_email_native",
            "Send a Verify Email Address Link",
        ),
        login_token("/oauth/link_account_native", "Link a Social Identity"),
        login_token("/oauth/unlink_account_native", "Unlink a Social Identity"),
        login_token("/oauth/update_profile_native", "Update a User Profile"),
        // 2.3 Entity and EntityType APIs
        user_record("/entity", "View a User Profile", &[DA, DR]),
        entity("/entity.find", "Search for User Profiles", &[DA, DR]),
        entity("/entity.count", "Count User Profiles", &[DA, DR]),
        user_record("/entity.update", "Modify a User Profile", &[DA]),
        user_record("/entity.replace", "Replace a User Profile", &[DA]),
        entity("/entity.create", "Create a User Profile", &[DA]),
        entity("/entity.bulkCreate", "Create Multiple User Profiles", &[DA]),
        entity(
            "/entity.deleteAccess",
            "Invalidate a User Session",
            &[O, AI, DA],
        ),
        user_record("/entity.delete", "Delete a User Profile", &[DA]),
        entity_type("/entityType.list", "List Entity Types", &[O]),
        entity_type("/entityType", "View an Entity Type", all),
        entity_type("/entityType.create", "Create an Entity Type", &[O]),
        entity_type("/entityType.addAttribute", "Create an Attribute", &[O]),
        entity_type("/entityType.removeAttribute", "Delete an Attribute", &[O]),
        entity_type("/entityType.addRule", "Create a Validation Rule", &[O]),
        entity_type("/entityType.rules", "List Your Validation Rules", &[O]),
        entity_type("/entityType.removeRule", "Delete a Validation Rule", &[O]),
        entity_type("/entityType.getAccessSchema", "List Access Schemas", all),
        entity_type(
            "/entityType.setAccessSchema",
            "Create an Access Schema",
            &[O],
        ),
        entity_type(
            "/entityType.setAttributeConstraints",
            "Assign Constraints to an Attribute",
            &[O],
        ),
        entity_type(
            "/entityType.deleteAccessSchema",
            "Delete an Access Schema",
            &[O],
        ),
        // 2.4 Legacy Clients and Settings APIs
        legacy("/clients/list", "List Clients", &[O]).with_method(Method::GET),
        legacy("/clients/set_features", "Modify Client Features", &[O]),
        legacy("/clients/set_whitelist", "Create an IP Whitelist", &[O]),
        legacy("/clients/reset_secret", "Reset a Client Secret", &[O]),
        legacy("/clients/set_description", "Rename a Client", &[O]),
        legacy(
            "/clients/clear_whitelist",
            "Delete Whitelist IP Addresses",
            &[O],
        ),
        legacy("/clients/add", "Create a Client", &[O]),
        legacy("/clients/delete", "Delete a Client", &[O]),
        legacy("/settings/get_default", "View an Application Setting", all),
        legacy("/settings/set_default", "Set a Default Setting", &[O]),
        legacy("/settings/keys", "List Setting Keys", &[O]),
        legacy("/settings/get", "View a Client Setting", &[O]),
        legacy("/settings/items", "List Settings", &[O]),
        legacy("/settings/get_multi", "View Multiple Settings", &[O]),
        legacy("/settings/set", "Modify a Setting", &[O]),
        legacy("/settings/set_multi", "Modify Multiple Settings", &[O]),
        legacy("/settings/delete", "Delete a Setting", &[O]),
        legacy("/settings/delete_default", "Delete a Default Setting", &[O]),
        legacy("/settings/widget/list", "List Published Settings", &[O]),
        legacy("/settings/widget/get", "View a Published Setting", &[O]),
        legacy("/settings/widget/set", "Publish a Setting", &[O]),
        legacy(
            "/settings/widget/delete",
            "Delete a Published Setting",
            &[O],
        ),
    ]
}

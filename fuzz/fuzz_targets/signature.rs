//! Signing and verifying: `SigningKey`, `StringToSign`, `ApiClient`.
//!
//! Properties:
//! * the string to sign equals the plain reference's (`scheme::reference::string_to_sign`:
//!   endpoint, datetime, every `key=value` line sorted as whole byte strings, each ending in
//!   `\n`), and the signature its base64(HMAC-SHA1) by the RustCrypto `hmac` crate
//!   (`scheme::reference::signature`);
//! * a request signed with key K verifies with K, and with no key K' that is not the same
//!   HMAC key (HMAC pads keys with zero bytes and hashes keys over 64 bytes, so `k` and
//!   `k\0`, or a long key and its SHA-1, are the same key: those are excluded);
//! * changing one byte of the endpoint, the datetime, a key or a value makes verification fail;
//! * `ApiClient::verify_signature` accepts the signature of any of its secrets and
//!   `verify_basic_secret` accepts exactly its secrets;
//! * `verify_forms` finds the form that was signed, and the key-order variant gives the same
//!   bytes whenever `effective_form` says it does.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use janrain_auth::credentials::{ApiClient, ClientId, ClientSecret};
use janrain_auth::scheme::{
    Canonicalization, ParamOrder, SIGNATURE_LEN, SigningKey, StringToSign, reference,
};
use janrain_auth_fuzz::hmac_block;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    key: String,
    other_key: String,
    endpoint: String,
    datetime: String,
    params: Vec<(Vec<u8>, Vec<u8>)>,
    /// Which byte to change, counted over endpoint, datetime, then every key and value.
    tamper_at: u16,
    tamper_xor: u8,
    form: u8,
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    if let Ok(input) = Input::arbitrary(&mut u) {
        check(input);
    }
});

fn check(input: Input) {
    let params = &input.params;
    let key = SigningKey::new(&input.key);
    let sts = StringToSign::new(&input.endpoint, &input.datetime, params);
    let message = reference::string_to_sign(
        &input.endpoint,
        &input.datetime,
        params,
        Canonicalization::CANONICAL,
    );
    assert_eq!(
        sts.to_bytes(),
        message,
        "string to sign differs from the reference"
    );
    assert_eq!(sts.len(), message.len());

    let sig = key.sign(&sts);
    assert_eq!(sig.as_str().len(), SIGNATURE_LEN);
    assert_eq!(
        sig.as_str(),
        reference::signature(input.key.as_bytes(), &message),
        "HMAC differs from the hmac crate"
    );
    assert!(
        key.verify(&sts, sig.as_str().as_bytes()),
        "K does not verify its own signature"
    );

    // Another key: refused unless it is the same HMAC key.
    let other = SigningKey::new(&input.other_key);
    let same_key = hmac_block(input.key.as_bytes()) == hmac_block(input.other_key.as_bytes());
    assert_eq!(
        other.verify(&sts, sig.as_str().as_bytes()),
        same_key,
        "a different key verified (or an equivalent one did not)"
    );

    // One byte changed anywhere: refused.
    let mut endpoint = input.endpoint.clone().into_bytes();
    let mut datetime = input.datetime.clone().into_bytes();
    let mut tampered = params.clone();
    let xor = input.tamper_xor | 1;
    let mut fields: Vec<&mut Vec<u8>> = vec![&mut endpoint, &mut datetime];
    for (k, v) in tampered.iter_mut() {
        fields.push(k);
        fields.push(v);
    }
    let total: usize = fields.iter().map(|f| f.len()).sum();
    if total > 0 {
        let mut at = usize::from(input.tamper_at) % total;
        for field in fields {
            if at < field.len() {
                field[at] ^= xor;
                break;
            }
            at -= field.len();
        }
        // The endpoint and datetime are text; a change may break UTF-8, so sign bytes lossily
        // only when they stay text.
        if let (Ok(e), Ok(d)) = (
            std::str::from_utf8(&endpoint),
            std::str::from_utf8(&datetime),
        ) {
            let changed = StringToSign::new(e, d, &tampered);
            assert!(
                !key.verify(&changed, sig.as_str().as_bytes()),
                "a tampered request verified"
            );
        }
    }

    // A received signature of any other length or with one byte changed is refused.
    let mut wrong = *sig.as_bytes();
    wrong[usize::from(input.tamper_at) % SIGNATURE_LEN] ^= xor;
    assert!(!key.verify(&sts, &wrong));
    assert!(!key.verify(&sts, &sig.as_bytes()[..SIGNATURE_LEN - 1]));
    assert!(!key.verify(&sts, format!("{}A", sig.as_str()).as_bytes()));

    // Forms: sign with one, find it again.
    let form = match input.form % 4 {
        0 => Canonicalization::CANONICAL,
        1 => Canonicalization::SAMPLE_CODE,
        2 => Canonicalization::CANONICAL.with_order(ParamOrder::Key),
        _ => Canonicalization::CANONICAL.with_blank_line_without_params(true),
    };
    let in_form = sts.with_form(form);
    let form_sig = key.sign(&in_form);
    assert_eq!(
        in_form.to_bytes(),
        reference::string_to_sign(&input.endpoint, &input.datetime, params, form)
    );
    let forms = [Canonicalization::CANONICAL, form];
    let found = key.verify_forms(&sts, &forms, form_sig.as_str().as_bytes());
    assert!(found.is_some(), "verify_forms missed the signed form");
    let same_bytes = in_form.to_bytes() == message;
    assert_eq!(
        in_form.effective_form() == Canonicalization::CANONICAL,
        same_bytes
    );
    assert_eq!(
        key.verify_forms(&sts, &forms[..1], form_sig.as_str().as_bytes())
            .is_some(),
        same_bytes
    );

    // ApiClient: every secret verifies, Basic accepts exactly the secrets.
    let (Ok(first), Ok(second)) = (
        ClientSecret::new(input.key.clone()),
        ClientSecret::new(input.other_key.clone()),
    ) else {
        return;
    };
    let client = ApiClient::new(ClientId::new("c").unwrap(), first);
    let forms = [Canonicalization::CANONICAL];
    assert!(
        client
            .verify_signature(&sts, &forms, sig.as_str().as_bytes())
            .is_some()
    );
    assert!(client.verify_basic_secret(&input.key));
    assert_eq!(
        client.verify_basic_secret(&input.other_key),
        input.key == input.other_key
    );
    let other_sig = other.sign(&sts);
    assert_eq!(
        client
            .verify_signature(&sts, &forms, other_sig.as_str().as_bytes())
            .is_some(),
        same_key
    );
    let rotated = client.with_secret(second);
    assert!(
        rotated
            .verify_signature(&sts, &forms, other_sig.as_str().as_bytes())
            .is_some()
    );
    assert!(
        rotated
            .verify_signature(&sts, &forms, sig.as_str().as_bytes())
            .is_some()
    );
    assert!(rotated.verify_basic_secret(&input.other_key));
    assert!(rotated.verify_basic_secret(&input.key));
    assert!(!format!("{rotated:?}").contains(&format!("{:?}", input.key)) || input.key.len() < 4);
}

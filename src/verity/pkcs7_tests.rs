use super::*;
use crate::verity::base64;

// Signatures over the text "5d57abcd" by a throwaway self-signed key (CN=verinit test
// signing key), made by `openssl smime -sign -binary -outform der`: with -nocerts -noattr
// (as make-fixture signs), with signed attributes, with the certificate, and -nodetach.
pub(crate) const PLAIN: &str = "MIIBngYJKoZIhvcNAQcCoIIBjzCCAYsCAQExDzANBglghkgBZQMEAgEFADALBgkqhkiG9w0BBwExggFmMIIBYgIBATA7MCMxITAfBgNVBAMMGHZlcmluaXQgdGVzdCBzaWduaW5nIGtleQIUDVxnkN51Bkm4G58UyaRUZIsRtJswDQYJYIZIAWUDBAIBBQAwDQYJKoZIhvcNAQEBBQAEggEAgqAXu76NPqxGbTXCREw1NXs89DrUrqOYiig8+oCQJtaHjSSek/ZaeKkmNHUQWil2NJMUyoWnRb47c1PomwbnLdoXCXqvTT7lQV8mfD7quoIetkgRrq6sq4cj5TNUKPdelFYuLN/kIZubPk7BD2+sLDW+UkUPs0WjJRi7Q7kRsGktGdWFo8eEHuutY/Aum96Bi3teLoQhfc1IPzh7+OQ2fMtxoeykCZbGdUb9ijFKl80p97tcbipEDcXCphA0OFpUFWoAUHPbbc8wniQPg34GwJRFMHvHsLae9NOQB6XA6330jfdfN7EOHfrz1CLhuXIkYZCXzFPrgzjI+LpY8A94hg==";
const ATTRS: &str = "MIIChQYJKoZIhvcNAQcCoIICdjCCAnICAQExDzANBglghkgBZQMEAgEFADALBgkqhkiG9w0BBwExggJNMIICSQIBATA7MCMxITAfBgNVBAMMGHZlcmluaXQgdGVzdCBzaWduaW5nIGtleQIUDVxnkN51Bkm4G58UyaRUZIsRtJswDQYJYIZIAWUDBAIBBQCggeQwGAYJKoZIhvcNAQkDMQsGCSqGSIb3DQEHATAcBgkqhkiG9w0BCQUxDxcNMjYxMTI0MDEyNzUyWjAvBgkqhkiG9w0BCQQxIgQgWz8Wds0fS7qqIdzGE3GbIbQiG3bVQS+MRAEZPssmmCwweQYJKoZIhvcNAQkPMWwwajALBglghkgBZQMEASowCwYJYIZIAWUDBAEWMAsGCWCGSAFlAwQBAjAKBggqhkiG9w0DBzAOBggqhkiG9w0DAgICAIAwDQYIKoZIhvcNAwICAUAwBwYFKw4DAgcwDQYIKoZIhvcNAwICASgwDQYJKoZIhvcNAQEBBQAEggEANP9mCOqS3UZfYfuHmRYX41o1my+kZh9/6V04CEZBuHW1pyFVm+7f+RewXiz0tnCVBWo8bBcZdIfmqhQtfQjoxMoPQM8+So5kL6ppThz6+E0MWheSZD6gYKBSwzmbzX9bJpJ+Gq0uoOKyRSyp2HXVcM/TGXCAb/e/owjsE+/TpHsaYEpEQa9nxMJfJ8tPHrOhIQVtsBl3609sT5cO3Kg7fj59MQLF41OWKokHOYZeMx4ZLbg50PXIxkV/zpPf/rke2WA26Xr/TsnP9sa59GGJeYB9EH7PscLDB9Imh/oFGCHiRygNpj6sV7DJo9dSCnR6N8Fw9ve6jSfW3YVkWsB/8Q==";
const WITH_CERT: &str = "MIIEzQYJKoZIhvcNAQcCoIIEvjCCBLoCAQExDzANBglghkgBZQMEAgEFADALBgkqhkiG9w0BBwGgggMrMIIDJzCCAg+gAwIBAgIUDVxnkN51Bkm4G58UyaRUZIsRtJswDQYJKoZIhvcNAQELBQAwIzEhMB8GA1UEAwwYdmVyaW5pdCB0ZXN0IHNpZ25pbmcga2V5MCAXDTI2MTEyNDAxMjUyMFoYDzIxMjYxMDMxMDEyNTIwWjAjMSEwHwYDVQQDDBh2ZXJpbml0IHRlc3Qgc2lnbmluZyBrZXkwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDqDfgzFfvQzYkzTiGV6u3zIEGvnrvQzWH1zxhq36wrnnmMdZdVANXp7jw9xjXRS3EOFG6Of3rlFpdpvcY4w3N6u2GAGdU4Hfno5ssTsBbN6O1ypDWXOEOBSNxXKJoFPRIi9KSyn/QtkEqoiMLaqgyCTUix8nFktccLTDLNahIHPEMiAvW61LeMiAoIXIkAxuNy8uMNhbnK1gwytNiQXbPKExX1Umpu4Gi/GuAKVNd66puP8fF0ZN7RUPT3gfZzZJmhiufysfLdOnLVcD5x8qFpjGMCwbFSxjfeX18J8cvgK88J6FglyJvqqFN0eCNpGNcerfFWAYweGtVu8ntQBl+HAgMBAAGjUTBPMAwGA1UdEwEB/wQCMAAwCwYDVR0PBAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUFBwMDMB0GA1UdDgQWBBQ2BIwj8qUBwXzyV8/cT80Vq+zTDzANBgkqhkiG9w0BAQsFAAOCAQEAn/2gwZn2BW8V0bIS6DDoltBS8eoKplWrlbROA4VayznNVXu54rPP+LDimPfATunCzB8DnVLBX1zUv/iTEjHRLE9R+pogDeLbBEIZb3gNXxwMMyhbz6bQcX3IHAt6GtvcWoPayf/Hca+8+jN1Hn6x30JZyCiPsTCvAqHMQit/RNRwLiHBpBUh6YIaXxICQXHIKLLjnx2ditOzxfrEBX0KV2cyMhCRPhtol0uKrUYCRozZv9j3ERP5jusT/9gv845J6zr6bmbDFvyc4oCynWhRCmfEFUFxVD11hOBrDYYLvZil9WyFxtZwihLjsHfNb6R3FM7VmKlGzezyXqB79fG8uTGCAWYwggFiAgEBMDswIzEhMB8GA1UEAwwYdmVyaW5pdCB0ZXN0IHNpZ25pbmcga2V5AhQNXGeQ3nUGSbgbnxTJpFRkixG0mzANBglghkgBZQMEAgEFADANBgkqhkiG9w0BAQEFAASCAQCCoBe7vo0+rEZtNcJETDU1ezz0OtSuo5iKKDz6gJAm1oeNJJ6T9lp4qSY0dRBaKXY0kxTKhadFvjtzU+ibBuct2hcJeq9NPuVBXyZ8Puq6gh62SBGurqyrhyPlM1Qo916UVi4s3+Qhm5s+TsEPb6wsNb5SRQ+zRaMlGLtDuRGwaS0Z1YWjx4Qe661j8C6b3oGLe14uhCF9zUg/OHv45DZ8y3Gh7KQJlsZ1Rv2KMUqXzSn3u1xuKkQNxcKmEDQ4WlQVagBQc9ttzzCeJA+DfgbAlEUwe8ewtp7005AHpcDrffSN9183sQ4d+vPUIuG5ciRhkJfMU+uDOMj4uljwD3iG";
const ATTACHED: &str = "MIIBqgYJKoZIhvcNAQcCoIIBmzCCAZcCAQExDzANBglghkgBZQMEAgEFADAXBgkqhkiG9w0BBwGgCgQINWQ1N2FiY2QxggFmMIIBYgIBATA7MCMxITAfBgNVBAMMGHZlcmluaXQgdGVzdCBzaWduaW5nIGtleQIUDVxnkN51Bkm4G58UyaRUZIsRtJswDQYJYIZIAWUDBAIBBQAwDQYJKoZIhvcNAQEBBQAEggEAgqAXu76NPqxGbTXCREw1NXs89DrUrqOYiig8+oCQJtaHjSSek/ZaeKkmNHUQWil2NJMUyoWnRb47c1PomwbnLdoXCXqvTT7lQV8mfD7quoIetkgRrq6sq4cj5TNUKPdelFYuLN/kIZubPk7BD2+sLDW+UkUPs0WjJRi7Q7kRsGktGdWFo8eEHuutY/Aum96Bi3teLoQhfc1IPzh7+OQ2fMtxoeykCZbGdUb9ijFKl80p97tcbipEDcXCphA0OFpUFWoAUHPbbc8wniQPg34GwJRFMHvHsLae9NOQB6XA6330jfdfN7EOHfrz1CLhuXIkYZCXzFPrgzjI+LpY8A94hg==";

fn der(b64: &str) -> Vec<u8> {
    base64::decode(b64).unwrap()
}

#[test]
fn reads_what_openssl_writes() {
    let signer = Signer {
        id: "CN=verinit test signing key serial 0d5c6790de750649b81b9f14c9a454648b11b49b".into(),
        digest: "sha256".into(),
        algorithm: "rsa".into(),
    };
    for (b64, certificates) in [(PLAIN, 0), (ATTRS, 0), (WITH_CERT, 1)] {
        let info = parse_pkcs7(&der(b64)).unwrap();
        assert_eq!(info.signers, vec![signer.clone()]);
        assert_eq!(info.certificates, certificates);
    }
    assert_eq!(
        parse_pkcs7(&der(PLAIN)).unwrap().to_string(),
        "PKCS#7 signed by CN=verinit test signing key serial 0d5c6790de750649b81b9f14c9a454648b11b49b (sha256, rsa)"
    );
}

#[test]
fn near_misses() {
    let plain = der(PLAIN);
    let mut trailing = plain.clone();
    trailing.push(0);
    let mut indefinite = plain.clone();
    indefinite[1] = 0x80;
    let mut not_signed = plain.clone();
    not_signed[14] = 0x01; // signedData -> data
    let mut inner_not_data = plain.clone();
    inner_not_data[55] = 0x03; // the signed content's type: data -> envelopedData
    let mut empty_sig = plain.clone();
    empty_sig[158..162].copy_from_slice(&[0x04, 0x00, 0x04, 0x00]); // breaks the lengths
    let mut bad_sid = plain.clone();
    bad_sid[67] = 0x31;
    let cases: Vec<(Vec<u8>, usize, &str)> = vec![
        (Vec::new(), 0, "ends where another element"),
        (vec![0x30], 1, "ends inside a length"),
        (plain[..100].to_vec(), 0, "only 96 are left"),
        (trailing, 418, "1 bytes after the signature"),
        (indefinite, 1, "indefinite length"),
        (not_signed, 4, "content type data, not signedData"),
        (inner_not_data, 45, "not data"),
        (der(ATTACHED), 56, "not detached"),
        (bad_sid, 67, "signer identifier of tag 0x31"),
        (vec![0x1f, 0x00], 0, "multi-byte tags"),
        (vec![0x30, 0x85, 1, 2, 3, 4, 5], 1, "a length of 5 bytes"),
        (vec![0x02, 0x00], 0, "expected a ContentInfo SEQUENCE"),
    ];
    for (bytes, offset, why) in cases {
        let e = parse_pkcs7(&bytes).unwrap_err();
        assert!(e.why.contains(why), "{why}: {e}");
        assert_eq!(e.offset, offset, "{why}: {e}");
    }
    assert!(parse_pkcs7(&empty_sig).is_err());
}

#[test]
fn no_signer_and_oid_names() {
    // A SignedData with an empty SET of signer infos.
    let body: Vec<u8> = [
        &[0x02, 0x01, 0x01][..],
        &[0x31, 0x00],
        &[
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
        ],
        &[0x31, 0x00],
    ]
    .concat();
    let mut sd = vec![0x30, body.len() as u8];
    sd.extend(&body);
    let mut explicit = vec![0xa0, sd.len() as u8];
    explicit.extend(&sd);
    let mut ci = vec![
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
    ];
    ci.extend(&explicit);
    let mut top = vec![0x30, ci.len() as u8];
    top.extend(&ci);
    let e = parse_pkcs7(&top).unwrap_err();
    assert!(e.why.contains("no signer"), "{e}");
    assert_eq!(
        oid_name(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37]),
        "OID 1.3.6.1.4.1.311"
    );
    assert_eq!(oid_name(&[0x55, 0x04, 0x03]), "CN");
}

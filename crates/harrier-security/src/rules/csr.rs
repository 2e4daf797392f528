//! Reading the subject of a PKCS#10 certificate signing request, as a
//! `CertificateSigningRequest`'s `spec.request` carries it (base64 of a PEM block).
//!
//! Only what `suspicious_csr` needs is read: the common name (CN, OID 2.5.4.3) and
//! organizations (O, OID 2.5.4.10) of the subject, which the Kubernetes client signers
//! turn into the user name and groups. The DER walk is bounds-checked throughout;
//! anything malformed gives `None`. The signature is not checked (the API server does).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Requests larger than this (base64 text) are not parsed.
const MAX_REQUEST_LEN: usize = 64 * 1024;

const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_INTEGER: u8 = 0x02;
const TAG_OID: u8 = 0x06;

/// The identity a client certificate issued for the request would carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Subject {
    /// CN: the Kubernetes user name.
    pub common_name: Option<String>,
    /// O: the Kubernetes groups.
    pub organizations: Vec<String>,
}

impl Subject {
    /// `CN=x, O=y` for a reason.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cn) = &self.common_name {
            parts.push(format!("CN={cn}"));
        }
        parts.extend(self.organizations.iter().map(|o| format!("O={o}")));
        parts.join(", ")
    }
}

/// The subject of `spec.request` (base64 of a PEM `CERTIFICATE REQUEST`, or of DER).
pub(crate) fn subject_of_request(spec_request: &str) -> Option<Subject> {
    if spec_request.len() > MAX_REQUEST_LEN {
        return None;
    }
    let compact: String = spec_request.split_whitespace().collect();
    let decoded = STANDARD.decode(compact).ok()?;
    let der = if decoded.first() == Some(&TAG_SEQUENCE) {
        decoded
    } else {
        pem_body(std::str::from_utf8(&decoded).ok()?)?
    };
    parse_subject(&der)
}

/// The DER inside the first PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let mut lines = pem.lines().map(str::trim);
    lines.find(|l| l.starts_with("-----BEGIN "))?;
    let body: String = lines
        .take_while(|l| !l.starts_with("-----END "))
        .filter(|l| !l.contains(':'))
        .collect();
    STANDARD.decode(body).ok()
}

/// One DER element: (tag, content, what follows).
fn read_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = input.get(2..2 + count)?;
        let length = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (length, 2 + count)
    };
    let end = header.checked_add(length)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, content, rest) = read_element(input)?;
    (found == tag).then_some((content, rest))
}

/// `CertificationRequest ::= SEQUENCE { certificationRequestInfo SEQUENCE { version
/// INTEGER, subject Name, ... }, ... }`; `Name` is a SEQUENCE of SETs of
/// `SEQUENCE { type OID, value ANY }`.
fn parse_subject(der: &[u8]) -> Option<Subject> {
    let (request, _) = expect(der, TAG_SEQUENCE)?;
    let (info, _) = expect(request, TAG_SEQUENCE)?;
    let (_, after_version) = expect(info, TAG_INTEGER)?;
    let (mut name, _) = expect(after_version, TAG_SEQUENCE)?;
    let mut subject = Subject::default();
    while !name.is_empty() {
        let (mut set, rest) = expect(name, TAG_SET)?;
        name = rest;
        while !set.is_empty() {
            let (attribute, rest) = expect(set, TAG_SEQUENCE)?;
            set = rest;
            let (oid, value) = expect(attribute, TAG_OID)?;
            let (tag, text, _) = read_element(value)?;
            let Some(text) = decode_string(tag, text) else {
                continue;
            };
            if oid == OID_COMMON_NAME {
                subject.common_name = Some(text);
            } else if oid == OID_ORGANIZATION {
                subject.organizations.push(text);
            }
        }
    }
    Some(subject)
}

/// The directory string types X.509 names use.
fn decode_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, T61String, IA5String
        0x0c | 0x13 | 0x14 | 0x16 => Some(String::from_utf8_lossy(bytes).into_owned()),
        // BMPString: UTF-16BE
        0x1e => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

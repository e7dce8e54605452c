//! The `certificate.text` dump: `openssl x509 -text -noout` as OpenSSL 1.0.2 prints it.
//!
//! Controller 20.1.1 fills `text` with OpenSSL 1.0.2's output (the recorded `test_ssl_vs`
//! cassette is reproduced byte for byte, see the tests): the misindented first `Signature
//! Algorithm` line, names as `C=US, ST=CA, CN=x`, `Public-Key: (2048 bit)`, 15 octets per key
//! line and 18 per signature line. Extensions OpenSSL prints in a way this module does not
//! model are dumped like OpenSSL dumps unknown extensions (printable octets, `.` for others).

use std::fmt::Write as _;

use time::OffsetDateTime;
use x509_parser::extensions::{
    AuthorityKeyIdentifier, DistributionPointName, GeneralName, KeyUsage, ParsedExtension,
};
use x509_parser::prelude::{X509Certificate, X509Extension, X509Name};
use x509_parser::public_key::PublicKey;

use super::keys::strip_zeros;
use super::names;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The whole dump, ending with a newline.
pub(super) fn dump(cert: &X509Certificate<'_>) -> String {
    let mut out = String::with_capacity(4096);
    let version = cert.version().0;
    out.push_str("Certificate:\n    Data:\n");
    let _ = writeln!(
        out,
        "        Version: {} (0x{version:x})",
        u64::from(version) + 1
    );
    out.push_str("        Serial Number:");
    serial(&mut out, cert.tbs_certificate.raw_serial());
    let _ = writeln!(
        out,
        "    Signature Algorithm: {}",
        names::signature_algorithm(&cert.tbs_certificate.signature.algorithm.to_id_string())
    );
    let _ = writeln!(out, "        Issuer: {}", name_line(cert.issuer()));
    out.push_str("        Validity\n");
    let _ = writeln!(
        out,
        "            Not Before: {}",
        openssl_time(cert.validity().not_before.to_datetime())
    );
    let _ = writeln!(
        out,
        "            Not After : {}",
        openssl_time(cert.validity().not_after.to_datetime())
    );
    let _ = writeln!(out, "        Subject: {}", name_line(cert.subject()));
    out.push_str("        Subject Public Key Info:\n");
    public_key_info(&mut out, cert);
    extensions(&mut out, cert.extensions());
    let _ = write!(
        out,
        "    Signature Algorithm: {}",
        names::signature_algorithm(&cert.signature_algorithm.algorithm.to_id_string())
    );
    hex_lines(&mut out, &cert.signature_value.data, 18, 9);
    out.push('\n');
    out
}

/// A name as OpenSSL 1.0.2's `X509_NAME_print`: the `X509_NAME_oneline` form with each `/`
/// that starts a one- or two-letter upper-case attribute replaced by `, `.
///
/// This is also the controller's `distinguished_name` (`C=US, ST=CA, L=San Francisco, O=IT,
/// CN=app2-cert`); an empty name gives `""`.
pub(super) fn name_line(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, (short, value)) in name_entries(name).iter().enumerate() {
        if i > 0 {
            let two_letter_upper =
                (1..=2).contains(&short.len()) && short.bytes().all(|b| b.is_ascii_uppercase());
            out.push_str(if two_letter_upper { ", " } else { "/" });
        }
        let _ = write!(out, "{short}={value}");
    }
    out
}

/// A name as `X509_NAME_oneline`: `/C=US/O=IT/CN=x`.
fn name_oneline(name: &X509Name<'_>) -> String {
    name_entries(name)
        .iter()
        .fold(String::new(), |mut out, (short, value)| {
            let _ = write!(out, "/{short}={value}");
            out
        })
}

/// `(short name, escaped value)` for each attribute, in certificate order.
fn name_entries(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|attr| {
            let oid = attr.attr_type().to_id_string();
            let short = names::attribute_short_name(&oid).map_or(oid, str::to_owned);
            (short, escape(&super::attribute_value(attr)))
        })
        .collect()
}

/// `X509_NAME_oneline`'s escaping: octets outside `' '..='~'` become `\xHH`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if (b' '..=b'~').contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out
}

/// `Mmm dd hh:mm:ss yyyy GMT` with a space-padded day (`ASN1_TIME_print`).
pub(super) fn openssl_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let month = MONTHS
        .get(usize::from(u8::from(t.month())).saturating_sub(1))
        .copied()
        .unwrap_or("???");
    format!(
        "{month} {:2} {:02}:{:02}:{:02} {} GMT",
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// The serial after `Serial Number:`: ` 123 (0x7b)` when it fits a 64-bit long, else hex
/// octets on the next line.
fn serial(out: &mut String, raw: &[u8]) {
    let bytes = strip_zeros(raw);
    if bytes.len() <= 8 {
        let v = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let _ = writeln!(out, " {v} (0x{v:x})");
    } else {
        out.push('\n');
        out.push_str(&" ".repeat(12));
        out.push_str(&colon_hex(bytes, false));
        out.push('\n');
    }
}

/// The `Subject Public Key Info` body.
fn public_key_info(out: &mut String, cert: &X509Certificate<'_>) {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let _ = writeln!(
        out,
        "            Public Key Algorithm: {}",
        names::public_key_algorithm(&alg)
    );
    let ind = " ".repeat(16);
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let _ = writeln!(
                out,
                "{ind}Public-Key: ({} bit)",
                super::bit_length(rsa.modulus)
            );
            bn_print(out, "Modulus:", rsa.modulus, 16);
            bn_print(out, "Exponent:", rsa.exponent, 16);
        }
        Ok(PublicKey::EC(point)) => {
            let curve = super::ec_curve(spki);
            let bits = curve.map_or(point.key_size(), |c| c.bits as usize);
            let _ = writeln!(out, "{ind}Public-Key: ({bits} bit)");
            bn_print(out, "pub: ", point.data(), 16);
            match curve {
                Some(c) => {
                    let _ = writeln!(out, "{ind}ASN1 OID: {}", c.asn1_name);
                    let _ = writeln!(out, "{ind}NIST CURVE: {}", c.nist_name);
                }
                None => {
                    let _ = writeln!(out, "{ind}ASN1 OID: unknown");
                }
            }
        }
        Ok(PublicKey::Unknown(raw)) if alg == names::ED25519 || alg == names::ED448 => {
            let _ = write!(
                out,
                "{ind}{} Public-Key:\n{ind}pub:",
                names::public_key_algorithm(&alg)
            );
            hex_lines(out, raw, 15, 20);
            out.push('\n');
        }
        _ => {
            let _ = writeln!(out, "{ind}Unable to load Public Key");
        }
    }
}

/// `ASN1_bn_print`: `label value (0xhex)` for a number that fits a long, else the label and
/// the octets (with a leading `00` when the top bit is set) 15 per line.
fn bn_print(out: &mut String, label: &str, raw: &[u8], indent: usize) {
    let bytes = strip_zeros(raw);
    out.push_str(&" ".repeat(indent));
    if bytes.len() <= 8 {
        let v = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let _ = writeln!(out, "{label} {v} (0x{v:x})");
        return;
    }
    out.push_str(label);
    let mut buf = Vec::with_capacity(bytes.len() + 1);
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        buf.push(0);
    }
    buf.extend_from_slice(bytes);
    hex_lines(out, &buf, 15, indent + 4);
    out.push('\n');
}

/// Lower-case colon hex, `per_line` octets per line, each line starting with `\n` + indent.
fn hex_lines(out: &mut String, bytes: &[u8], per_line: usize, indent: usize) {
    let pad = " ".repeat(indent);
    for (i, b) in bytes.iter().enumerate() {
        if i % per_line == 0 {
            out.push('\n');
            out.push_str(&pad);
        }
        let _ = write!(out, "{b:02x}");
        if i + 1 != bytes.len() {
            out.push(':');
        }
    }
}

/// Colon-separated hex octets.
pub(super) fn colon_hex(bytes: &[u8], upper: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        if upper {
            let _ = write!(out, "{b:02X}");
        } else {
            let _ = write!(out, "{b:02x}");
        }
    }
    out
}

/// The `X509v3 extensions:` section (nothing when the certificate has none).
fn extensions(out: &mut String, exts: &[X509Extension<'_>]) {
    if exts.is_empty() {
        return;
    }
    out.push_str("        X509v3 extensions:\n");
    let ind = " ".repeat(16);
    for ext in exts {
        let oid = ext.oid.to_id_string();
        let title = names::extension(&oid).map_or(oid, str::to_owned);
        let _ = writeln!(
            out,
            "            {title}: {}",
            if ext.critical { "critical" } else { "" }
        );
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => {
                let _ = write!(out, "{ind}{}", colon_hex(id.0, true));
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => authority_key_id(out, aki),
            ParsedExtension::BasicConstraints(bc) => {
                let _ = write!(out, "{ind}CA:{}", if bc.ca { "TRUE" } else { "FALSE" });
                if let Some(len) = bc.path_len_constraint {
                    let _ = write!(out, ", pathlen:{len}");
                }
            }
            ParsedExtension::KeyUsage(ku) => {
                let _ = write!(out, "{ind}{}", key_usage(ku).join(", "));
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut purposes: Vec<String> = Vec::new();
                let flags = [
                    (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
                    (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
                    (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                    (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                    (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                    (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
                    (eku.any, "2.5.29.37.0"),
                ];
                purposes.extend(
                    flags
                        .iter()
                        .filter(|(set, _)| *set)
                        .map(|(_, oid)| names::extended_key_usage(oid)),
                );
                purposes.extend(
                    eku.other
                        .iter()
                        .map(|o| names::extended_key_usage(&o.to_id_string())),
                );
                let _ = write!(out, "{ind}{}", purposes.join(", "));
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                let _ = write!(out, "{ind}{}", general_names(&san.general_names));
            }
            ParsedExtension::IssuerAlternativeName(ian) => {
                let _ = write!(out, "{ind}{}", general_names(&ian.general_names));
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    out.push('\n');
                    match &point.distribution_point {
                        Some(DistributionPointName::FullName(gens)) => {
                            let _ = writeln!(out, "{ind}Full Name:");
                            print_gens(out, gens);
                        }
                        Some(DistributionPointName::NameRelativeToCRLIssuer(rdn)) => {
                            let _ = writeln!(out, "{ind}Relative Name:");
                            let value: Vec<String> = rdn
                                .iter()
                                .map(|a| {
                                    let oid = a.attr_type().to_id_string();
                                    let short = names::attribute_short_name(&oid)
                                        .map_or(oid, str::to_owned);
                                    format!("{short}={}", escape(&super::attribute_value(a)))
                                })
                                .collect();
                            let _ = writeln!(out, "{ind}  {}", value.join(" + "));
                        }
                        None => {}
                    }
                    if let Some(issuer) = &point.crl_issuer {
                        let _ = writeln!(out, "{ind}CRL Issuer:");
                        print_gens(out, issuer);
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in aia.iter() {
                    let _ = writeln!(
                        out,
                        "{ind}{} - {}",
                        names::access_method(&desc.access_method.to_id_string()),
                        general_name(&desc.access_location, false)
                    );
                }
            }
            ParsedExtension::CertificatePolicies(policies) => {
                for policy in policies {
                    let _ = writeln!(out, "{ind}Policy: {}", policy.policy_id.to_id_string());
                }
            }
            _ => {
                let _ = write!(out, "{ind}{}", printable(ext.value));
            }
        }
        out.push('\n');
    }
}

/// Authority Key Identifier (a multi-line extension: every value ends with a newline).
fn authority_key_id(out: &mut String, aki: &AuthorityKeyIdentifier<'_>) {
    let ind = " ".repeat(16);
    if let Some(id) = &aki.key_identifier {
        let _ = writeln!(out, "{ind}keyid:{}", colon_hex(id.0, true));
    }
    for name in aki.authority_cert_issuer.iter().flatten() {
        let _ = writeln!(out, "{ind}{}", general_name(name, false));
    }
    if let Some(serial) = aki.authority_cert_serial {
        let _ = writeln!(out, "{ind}serial:{}", colon_hex(serial, true));
    }
}

/// Key usage names in bit order.
fn key_usage(ku: &KeyUsage) -> Vec<&'static str> {
    [
        (ku.digital_signature(), "Digital Signature"),
        (ku.non_repudiation(), "Non Repudiation"),
        (ku.key_encipherment(), "Key Encipherment"),
        (ku.data_encipherment(), "Data Encipherment"),
        (ku.key_agreement(), "Key Agreement"),
        (ku.key_cert_sign(), "Certificate Sign"),
        (ku.crl_sign(), "CRL Sign"),
        (ku.encipher_only(), "Encipher Only"),
        (ku.decipher_only(), "Decipher Only"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

/// General names as `i2v_GENERAL_NAMES` prints them, comma-separated.
fn general_names(gens: &[GeneralName<'_>]) -> String {
    gens.iter()
        .map(|g| general_name(g, false))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One general name per line, indented by 18 (`print_gens` in CRL distribution points).
fn print_gens(out: &mut String, gens: &[GeneralName<'_>]) {
    for name in gens {
        let _ = writeln!(out, "{}{}", " ".repeat(18), general_name(name, true));
    }
}

/// One general name: `DNS:x`, `URI:x`, `IP Address:1.2.3.4`, `email:x`, `DirName:/C=..`.
/// `print_form` selects `GENERAL_NAME_print`'s variant (`DirName: /C=..`).
fn general_name(name: &GeneralName<'_>, print_form: bool) -> String {
    match name {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::IPAddress(ip) => format!("IP Address:{}", openssl_ip(ip)),
        GeneralName::DirectoryName(name) => {
            let sep = if print_form { " " } else { "" };
            format!("DirName:{sep}{}", name_oneline(name))
        }
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(..) => "othername:<unsupported>".to_owned(),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_owned(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_owned(),
        GeneralName::Invalid(..) => "<invalid>".to_owned(),
    }
}

/// An IP address as OpenSSL 1.0.2 prints it (IPv6: eight upper-case groups, no `::`).
fn openssl_ip(ip: &[u8]) -> String {
    match ip.len() {
        4 => ip.iter().map(u8::to_string).collect::<Vec<_>>().join("."),
        16 => ip
            .chunks(2)
            .map(|c| {
                let hi = c.first().copied().unwrap_or(0);
                let lo = c.get(1).copied().unwrap_or(0);
                format!("{:X}", u16::from_be_bytes([hi, lo]))
            })
            .collect::<Vec<_>>()
            .join(":"),
        _ => "<invalid>".to_owned(),
    }
}

/// `ASN1_STRING_print`: printable octets as is, others as `.`.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (b' '..=b'~').contains(&b) || b == b'\n' || b == b'\r' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

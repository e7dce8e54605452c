//! An istiod-like certificate authority.

use std::fmt;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use time::OffsetDateTime;

use crate::SimError;
use crate::keys::{GeneratedKey, KeyAlg, KeyFormat};

/// istiod's `CITADEL_SELF_SIGNED_CA_CERT_TTL` default: 3650 days.
pub const DEFAULT_ROOT_TTL: Duration = Duration::from_secs(3650 * 24 * 3600);
/// istio-agent's `SECRET_TTL` / istiod's `DEFAULT_WORKLOAD_CERT_TTL` default: 24 hours.
pub const DEFAULT_WORKLOAD_TTL: Duration = Duration::from_secs(24 * 3600);
/// istiod's `MAX_WORKLOAD_CERT_TTL` default: 90 days; longer requests are rejected.
pub const MAX_WORKLOAD_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// Lifetime of the intermediate in the plugged-in CA shape (istio's `tools/certs` makefiles: 730 days).
pub const INTERMEDIATE_TTL: Duration = Duration::from_secs(730 * 24 * 3600);
/// istiod back-dates workload certificates by this much (`ClockSkewGracePeriod`).
pub const CLOCK_SKEW_GRACE: Duration = Duration::from_secs(2 * 60);

/// Shape of the emulated CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaOptions {
    /// Mesh trust domain; the root's subject is `O=<trust domain>`. Default `cluster.local`.
    pub trust_domain: String,
    /// Key algorithm of the root (and intermediate). Default RSA-2048, like istiod.
    pub key_alg: KeyAlg,
    /// `true` emulates a plugged-in CA (`cacerts`): an intermediate signs the workloads and
    /// `cert-chain.pem` is leaf + intermediate + root. `false` (default) is istiod's
    /// self-signed CA: the root signs, and `cert-chain.pem` is leaf + root.
    pub intermediate: bool,
    /// Root lifetime. Default 3650 days.
    pub root_ttl: Duration,
}

impl Default for CaOptions {
    fn default() -> Self {
        Self {
            trust_domain: "cluster.local".to_owned(),
            key_alg: KeyAlg::default(),
            intermediate: false,
            root_ttl: DEFAULT_ROOT_TTL,
        }
    }
}

/// What a workload asks for: the identity istiod authenticates plus the agent's key settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadRequest {
    /// Kubernetes namespace of the pod. Default `avi-system`.
    pub namespace: String,
    /// Kubernetes service account of the pod. Default `ako-sa`.
    pub service_account: String,
    /// Requested lifetime (`SECRET_TTL`). Default 24 h; zero means istiod's default (24 h);
    /// above 90 days is rejected like istiod does.
    pub ttl: Duration,
    /// Workload key algorithm. Default RSA-2048.
    pub key_alg: KeyAlg,
    /// Encoding of `key.pem`. Default PKCS#1 / SEC1.
    pub key_format: KeyFormat,
    /// Deviations from a well-formed istiod leaf, for negative tests. Default: none.
    pub leaf: LeafProfile,
}

impl Default for WorkloadRequest {
    fn default() -> Self {
        Self {
            namespace: "avi-system".to_owned(),
            service_account: "ako-sa".to_owned(),
            ttl: DEFAULT_WORKLOAD_TTL,
            key_alg: KeyAlg::default(),
            key_format: KeyFormat::default(),
            leaf: LeafProfile::default(),
        }
    }
}

/// Knobs to issue deliberately broken leaves (for negative tests).
///
/// Default = exactly what istiod issues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeafProfile {
    /// URI SANs. `None` = the one `spiffe://<td>/ns/<ns>/sa/<sa>`; `Some(vec![])` = no SAN
    /// extension at all. Values are not validated (beyond being ASCII).
    pub uri_sans: Option<Vec<String>>,
    /// Mark the leaf `CA:true` (istiod: `CA:false`).
    pub is_ca: bool,
    /// `None` = digitalSignature + keyEncipherment; `Some(vec![])` = no keyUsage extension.
    pub key_usages: Option<Vec<KeyUsagePurpose>>,
    /// `None` = serverAuth + clientAuth; `Some(vec![])` = no EKU extension.
    pub extended_key_usages: Option<Vec<ExtendedKeyUsagePurpose>>,
    /// `None` = now − 2 min. Truncated to whole seconds.
    pub not_before: Option<OffsetDateTime>,
    /// `None` = not_before + 2 min + ttl, clamped to the signer's notAfter. An explicit value
    /// is used as given (not clamped). Truncated to whole seconds.
    pub not_after: Option<OffsetDateTime>,
}

/// One issued workload certificate, as istio-agent would write it to `OUTPUT_CERTS`.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkloadCert {
    /// Contents of `key.pem`.
    pub key_pem: String,
    /// Contents of `cert-chain.pem`: leaf, intermediate (if any), then the root bundle.
    pub cert_chain_pem: String,
    /// Contents of `root-cert.pem`: every trusted root.
    pub root_cert_pem: String,
    /// The leaf's SPIFFE ID (the first URI SAN; empty if [`LeafProfile::uri_sans`] had none).
    pub spiffe_id: String,
    /// The leaf certificate, DER.
    pub leaf_der: Vec<u8>,
    /// The leaf's serial number, lowercase hex of its minimal big-endian bytes, no separators.
    pub serial_hex: String,
}

impl WorkloadCert {
    /// The leaf alone, PEM (the first block of `cert_chain_pem`).
    pub fn leaf_pem(&self) -> &str {
        const END: &str = "-----END CERTIFICATE-----\n";
        match self.cert_chain_pem.find(END) {
            Some(i) => &self.cert_chain_pem[..i + END.len()],
            None => &self.cert_chain_pem,
        }
    }
}

impl fmt::Debug for WorkloadCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadCert")
            .field("key_pem", &"[redacted]")
            .field("cert_chain_pem", &self.cert_chain_pem)
            .field("root_cert_pem", &self.root_cert_pem)
            .field("spiffe_id", &self.spiffe_id)
            .field("leaf_der", &format_args!("[{} bytes]", self.leaf_der.len()))
            .field("serial_hex", &self.serial_hex)
            .finish()
    }
}

/// A CA certificate with the means to sign under it.
struct Signer {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: Vec<u8>,
    not_after: OffsetDateTime,
}

/// An istiod-like CA: a self-signed root `O=<trust domain>` (optionally with an intermediate)
/// issuing SPIFFE workload certificates exactly as istiod's `CreateCertificate` does.
///
/// ```
/// use istio_sim::{CaOptions, IstioCa, KeyAlg, WorkloadRequest};
///
/// let ca = IstioCa::new(CaOptions { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
/// let cert = ca.issue(&WorkloadRequest { key_alg: KeyAlg::EcdsaP256, ..Default::default() })?;
/// assert_eq!(cert.spiffe_id, "spiffe://cluster.local/ns/avi-system/sa/ako-sa");
/// assert!(cert.key_pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
/// # Ok::<(), istio_sim::SimError>(())
/// ```
pub struct IstioCa {
    opts: CaOptions,
    root: Signer,
    intermediate: Option<Signer>,
    /// Roots replaced by [`IstioCa::rotate_root`], newest first, still trusted.
    old_roots: Vec<String>,
}

impl fmt::Debug for IstioCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IstioCa")
            .field("opts", &self.opts)
            .field("root_not_after", &self.root.not_after)
            .field("intermediate", &self.intermediate.is_some())
            .field("old_roots", &self.old_roots.len())
            .finish_non_exhaustive()
    }
}

impl IstioCa {
    /// Creates a CA with a fresh root key (and intermediate, if configured).
    pub fn new(opts: CaOptions) -> Result<Self, SimError> {
        validate_trust_domain(&opts.trust_domain)?;
        let (root, intermediate) = make_signers(&opts)?;
        Ok(Self {
            opts,
            root,
            intermediate,
            old_roots: Vec::new(),
        })
    }

    /// The trust domain in every SPIFFE ID this CA issues.
    pub fn trust_domain(&self) -> &str {
        &self.opts.trust_domain
    }

    /// The options the CA was created with.
    pub fn options(&self) -> &CaOptions {
        &self.opts
    }

    /// The current root only, PEM.
    pub fn root_pem(&self) -> String {
        self.root.pem.clone()
    }

    /// The current root only, DER.
    pub fn root_der(&self) -> Vec<u8> {
        self.root.der.clone()
    }

    /// The current intermediate, PEM, when the CA has the plugged-in shape.
    pub fn intermediate_pem(&self) -> Option<String> {
        self.intermediate.as_ref().map(|s| s.pem.clone())
    }

    /// Every trusted root, current first, then the ones replaced by [`IstioCa::rotate_root`]
    /// (newest first) until [`IstioCa::drop_old_roots`]. This is what `root-cert.pem` holds and
    /// what ends `cert-chain.pem`.
    pub fn roots_pem(&self) -> String {
        let mut out = self.root.pem.clone();
        for old in &self.old_roots {
            out.push_str(old);
        }
        out
    }

    /// Replaces the root with a new self-signed one (new key; and a new intermediate if
    /// configured) that signs from now on. The old root stays in [`IstioCa::roots_pem`].
    pub fn rotate_root(&mut self) -> Result<(), SimError> {
        let (root, intermediate) = make_signers(&self.opts)?;
        let old = std::mem::replace(&mut self.root, root);
        self.intermediate = intermediate;
        self.old_roots.insert(0, old.pem);
        Ok(())
    }

    /// Stops trusting every root but the current one.
    pub fn drop_old_roots(&mut self) {
        self.old_roots.clear();
    }

    /// Issues a workload certificate with a fresh key, as istiod answers an istio-agent CSR.
    ///
    /// Generating an RSA-2048 key dominates the cost (tens to hundreds of milliseconds);
    /// ECDSA keys are fast.
    pub fn issue(&self, req: &WorkloadRequest) -> Result<WorkloadCert, SimError> {
        let signer = self.intermediate.as_ref().unwrap_or(&self.root);
        let leaf = &req.leaf;

        let spiffe_id = spiffe_id(
            &self.opts.trust_domain,
            &req.namespace,
            &req.service_account,
        )?;
        let uri_sans = leaf
            .uri_sans
            .clone()
            .unwrap_or_else(|| vec![spiffe_id.clone()]);

        let not_before = match leaf.not_before {
            Some(t) => truncate(t),
            None => truncate(OffsetDateTime::now_utc()) - CLOCK_SKEW_GRACE,
        };
        let not_after = match leaf.not_after {
            Some(t) => truncate(t),
            None => {
                let ttl = match req.ttl {
                    Duration::ZERO => DEFAULT_WORKLOAD_TTL,
                    ttl if ttl > MAX_WORKLOAD_TTL => {
                        return Err(SimError::TtlTooLong {
                            requested: ttl,
                            max: MAX_WORKLOAD_TTL,
                        });
                    }
                    ttl => ttl,
                };
                let t = add(not_before, CLOCK_SKEW_GRACE + ttl, "ttl")?;
                t.min(signer.not_after)
            }
        };

        let key = GeneratedKey::generate(req.key_alg)?;

        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.serial_number = Some(random_serial());
        params.not_before = not_before;
        params.not_after = not_after;
        params.use_authority_key_identifier_extension = true;
        params.subject_alt_names = uri_sans
            .iter()
            .map(|u| {
                u.clone()
                    .try_into()
                    .map(SanType::URI)
                    .map_err(|source| SimError::Certificate {
                        what: "workload",
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        params.key_usages = leaf.key_usages.clone().unwrap_or_else(|| {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ]
        });
        params.extended_key_usages = leaf.extended_key_usages.clone().unwrap_or_else(|| {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        });
        if leaf.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        } else {
            // Go writes `basicConstraints: critical, CA:FALSE` (BasicConstraintsValid) and no
            // subjectKeyIdentifier on non-CA certs; rcgen's ExplicitNoCa would add an SKI.
            params.is_ca = IsCa::NoCa;
            params.custom_extensions.push(basic_constraints_not_ca());
        }
        let serial_hex = serial_hex(params.serial_number.as_ref());

        let cert =
            params
                .signed_by(&key, &signer.issuer)
                .map_err(|source| SimError::Certificate {
                    what: "workload",
                    source,
                })?;

        // istiod returns [leaf, cert chain..., root bundle]; istio-agent writes all of it.
        let roots = self.roots_pem();
        let mut chain = ensure_newline(cert.pem());
        if let Some(int) = &self.intermediate {
            chain.push_str(&int.pem);
        }
        chain.push_str(&roots);

        Ok(WorkloadCert {
            key_pem: key.pem(req.key_format).to_owned(),
            cert_chain_pem: chain,
            root_cert_pem: roots,
            spiffe_id: uri_sans.into_iter().next().unwrap_or_default(),
            leaf_der: cert.der().to_vec(),
            serial_hex,
        })
    }
}

/// Formats `spiffe://<td>/ns/<ns>/sa/<sa>` like istio's `spiffe.Identity.String()`, rejecting
/// values that cannot be SPIFFE path segments.
pub fn spiffe_id(
    trust_domain: &str,
    namespace: &str,
    service_account: &str,
) -> Result<String, SimError> {
    validate_trust_domain(trust_domain)?;
    validate_segment("namespace", namespace)?;
    validate_segment("service_account", service_account)?;
    Ok(format!(
        "spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}"
    ))
}

fn validate_trust_domain(td: &str) -> Result<(), SimError> {
    let bad = |reason| SimError::InvalidTrustDomain {
        value: td.to_owned(),
        reason,
    };
    if td.is_empty() {
        return Err(bad("empty"));
    }
    if td.len() > 255 {
        return Err(bad("longer than 255 bytes"));
    }
    if !td
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(bad(
            "only lowercase letters, digits, '.', '-' and '_' are allowed",
        ));
    }
    Ok(())
}

fn validate_segment(field: &'static str, value: &str) -> Result<(), SimError> {
    let bad = |reason| SimError::InvalidIdentity {
        field,
        value: value.to_owned(),
        reason,
    };
    if value.is_empty() {
        return Err(bad("empty"));
    }
    if value == "." || value == ".." {
        return Err(bad("'.' and '..' are not allowed"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(bad("only letters, digits, '.', '-' and '_' are allowed"));
    }
    Ok(())
}

fn make_signers(opts: &CaOptions) -> Result<(Signer, Option<Signer>), SimError> {
    let now = truncate(OffsetDateTime::now_utc());

    // istiod's self-signed root: subject O=<td>, CA, keyUsage keyCertSign, NotBefore = now.
    let root_key = GeneratedKey::generate(opts.key_alg)?.signing_key()?;
    let mut root = CertificateParams::default();
    root.distinguished_name = DistinguishedName::new();
    root.distinguished_name
        .push(DnType::OrganizationName, opts.trust_domain.as_str());
    root.serial_number = Some(random_serial());
    root.not_before = now;
    root.not_after = add(now, opts.root_ttl, "root_ttl")?;
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let root_cert = root
        .self_signed(&root_key)
        .map_err(|source| SimError::Certificate {
            what: "root",
            source,
        })?;
    let root_not_after = root.not_after;
    let root_signer = Signer {
        pem: ensure_newline(root_cert.pem()),
        der: root_cert.der().to_vec(),
        not_after: root_not_after,
        issuer: Issuer::new(root, root_key),
    };

    if !opts.intermediate {
        return Ok((root_signer, None));
    }

    // Plugged-in CA (`cacerts`): an intermediate signed by the root signs the workloads.
    let int_key = GeneratedKey::generate(opts.key_alg)?;
    let mut int = CertificateParams::default();
    int.distinguished_name = DistinguishedName::new();
    int.distinguished_name
        .push(DnType::OrganizationName, opts.trust_domain.as_str());
    int.distinguished_name
        .push(DnType::CommonName, "Intermediate CA");
    int.serial_number = Some(random_serial());
    int.not_before = now;
    int.not_after = add(now, INTERMEDIATE_TTL, "intermediate ttl")?.min(root_not_after);
    int.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    int.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    int.use_authority_key_identifier_extension = true;
    let int_cert = int
        .signed_by(&int_key, &root_signer.issuer)
        .map_err(|source| SimError::Certificate {
            what: "intermediate",
            source,
        })?;
    let int_signer = Signer {
        pem: ensure_newline(int_cert.pem()),
        der: int_cert.der().to_vec(),
        not_after: int.not_after,
        issuer: Issuer::new(int, int_key.signing_key()?),
    };
    Ok((root_signer, Some(int_signer)))
}

/// `basicConstraints` (2.5.29.19), critical, empty SEQUENCE = `CA:FALSE`.
fn basic_constraints_not_ca() -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 19], vec![0x30, 0x00]);
    ext.set_criticality(true);
    ext
}

/// A random serial below 2^128, like istio's `genSerialNum`.
fn random_serial() -> SerialNumber {
    loop {
        let bytes: [u8; 16] = rand::random();
        if bytes.iter().any(|&b| b != 0) {
            return SerialNumber::from_slice(&bytes);
        }
    }
}

fn serial_hex(serial: Option<&SerialNumber>) -> String {
    let bytes = serial.map(SerialNumber::to_bytes).unwrap_or_default();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].iter().map(|b| format!("{b:02x}")).collect()
}

/// X.509 times have whole seconds; truncating here keeps requested and encoded times equal.
fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn add(t: OffsetDateTime, d: Duration, field: &'static str) -> Result<OffsetDateTime, SimError> {
    t.checked_add(time::Duration::try_from(d).map_err(|_| SimError::TimeOutOfRange { field })?)
        .filter(|t| t.year() <= 9999)
        .ok_or(SimError::TimeOutOfRange { field })
}

fn ensure_newline(mut pem: String) -> String {
    if !pem.ends_with('\n') {
        pem.push('\n');
    }
    pem
}

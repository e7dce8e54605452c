//! The Avi REST API as a user (or the Avi SDK) drives it: login, CSRF token, GET and PUT. The
//! demo reads what the containers wrote through it and edits a pool behind their back with it.

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::sync::Mutex;

/// A logged-in session on an Avi controller.
#[derive(Debug)]
pub struct AviRest {
    http: reqwest::Client,
    base: String,
    username: String,
    password: String,
    csrf: Mutex<Option<String>>,
}

impl AviRest {
    /// A session on `base` (`http://127.0.0.1:PORT`), logged in on first use.
    pub fn new(base: &str, username: &str, password: &str) -> anyhow::Result<AviRest> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(AviRest {
            http,
            base: base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            csrf: Mutex::new(None),
        })
    }

    async fn csrf(&self) -> anyhow::Result<String> {
        let mut csrf = self.csrf.lock().await;
        if let Some(token) = csrf.as_ref() {
            return Ok(token.clone());
        }
        let answer = self
            .http
            .post(format!("{}/login", self.base))
            .json(&serde_json::json!({"username": self.username, "password": self.password}))
            .send()
            .await
            .context("Avi login")?;
        if !answer.status().is_success() {
            bail!("Avi login: HTTP {}", answer.status());
        }
        let token = answer
            .cookies()
            .find(|c| c.name() == "csrftoken")
            .map(|c| c.value().to_owned())
            .context("Avi login: no csrftoken cookie")?;
        *csrf = Some(token.clone());
        Ok(token)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        for attempt in 0..2 {
            let token = self.csrf().await?;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("X-CSRFToken", token)
                .header("X-Avi-Tenant", "admin");
            if let Some(body) = body {
                req = req.json(body);
            }
            let answer = req
                .send()
                .await
                .with_context(|| format!("{method} {path}"))?;
            let status = answer.status();
            if status == reqwest::StatusCode::UNAUTHORIZED && attempt == 0 {
                // The session expired: log in again.
                *self.csrf.lock().await = None;
                continue;
            }
            let text = answer.text().await.unwrap_or_default();
            if !status.is_success() {
                bail!("{method} {path}: HTTP {status}: {}", text.trim());
            }
            return serde_json::from_str(&text)
                .with_context(|| format!("{method} {path}: not JSON"));
        }
        bail!("{method} {path}: still unauthorized after a new login")
    }

    /// `GET /api/<kind>?<query>&include_name=true`: the `results`.
    pub async fn list(&self, kind: &str, query: &str) -> anyhow::Result<Vec<Value>> {
        let sep = if query.is_empty() { "" } else { "&" };
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/api/{kind}?{query}{sep}include_name=true&page_size=200"),
                None,
            )
            .await?;
        Ok(v["results"].as_array().cloned().unwrap_or_default())
    }

    /// The object of `kind` named `name`, if any.
    pub async fn by_name(&self, kind: &str, name: &str) -> anyhow::Result<Option<Value>> {
        Ok(self
            .list(kind, &format!("name={name}"))
            .await?
            .into_iter()
            .next())
    }

    /// `PUT /api/<kind>/<uuid>` with `body`.
    pub async fn put(&self, kind: &str, body: &Value) -> anyhow::Result<Value> {
        let uuid = body["uuid"].as_str().context("object without uuid")?;
        self.send(
            reqwest::Method::PUT,
            &format!("/api/{kind}/{uuid}"),
            Some(body),
        )
        .await
    }
}

/// The name in a reference as the controller renders it with `include_name`
/// (`https://.../api/pkiprofile/pkiprofile-...#istio-pki-demo-avi-system`).
pub fn ref_name(r: &Value) -> Option<&str> {
    r.as_str()?.rsplit_once('#').map(|(_, name)| name)
}

/// `host:port` of every server of a pool.
pub fn pool_servers(pool: &Value) -> Vec<String> {
    pool["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{}:{}",
                s["ip"]["addr"].as_str().unwrap_or("?"),
                s["port"].as_u64().unwrap_or(0)
            )
        })
        .collect()
}

/// A big-endian hex number (`0a1b...`) in decimal, as the controller shows certificate serials.
pub fn hex_to_decimal(hex: &str) -> Option<String> {
    // Base 10^9 limbs, least significant first.
    let mut limbs: Vec<u64> = vec![0];
    for c in hex.chars() {
        let mut carry = u64::from(c.to_digit(16)?);
        for limb in &mut limbs {
            let v = *limb * 16 + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    let mut out = limbs.last().copied().unwrap_or(0).to_string();
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    Some(out)
}

/// `0a1b2c` → `0a:1b:2c`, as `ako certs inspect` and openssl print serials.
pub fn colon_hex(hex: &str) -> String {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    padded
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_convert_like_the_controller_shows_them() {
        assert_eq!(hex_to_decimal("0").as_deref(), Some("0"));
        assert_eq!(hex_to_decimal("ff").as_deref(), Some("255"));
        assert_eq!(
            hex_to_decimal("0de0b6b3a7640000").as_deref(),
            Some("1000000000000000000")
        );
        assert_eq!(
            hex_to_decimal("ffffffffffffffffffffffffffffffff").as_deref(),
            Some("340282366920938463463374607431768211455")
        );
        assert_eq!(hex_to_decimal("xyz"), None);
        assert_eq!(colon_hex("abc"), "0a:bc");
    }
}

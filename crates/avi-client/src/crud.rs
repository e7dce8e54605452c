//! Create, read, update, delete and `ensure`, with the controller's error codes turned into
//! the right next step: 409 on create → it exists (update it if ours), 412 → re-read and retry,
//! 404 on delete → already gone, a create whose answer was lost → look before posting again.

use reqwest::Method;
use serde_json::Value;
use url::form_urlencoded;

use crate::client::{AviClient, Call};
use crate::compare::{differing_fields, merge_over, without_nulls};
use crate::error::{AviError, Result};
use crate::kind::Kind;
use crate::object::AviObject;
use crate::owner::{self, owner_of};

/// What [`AviClient::ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// The object did not exist and was created.
    Created {
        /// Its uuid.
        uuid: String,
    },
    /// A field we own differed and the object was updated.
    Updated {
        /// Its uuid.
        uuid: String,
        /// The fields that differed.
        fields: Vec<String>,
    },
    /// Everything we own already matched; nothing was written.
    Unchanged {
        /// Its uuid.
        uuid: String,
    },
}

impl Ensured {
    /// The object's uuid.
    pub fn uuid(&self) -> &str {
        match self {
            Ensured::Created { uuid }
            | Ensured::Updated { uuid, .. }
            | Ensured::Unchanged { uuid } => uuid,
        }
    }
}

const PRECONDITION_RETRIES: u32 = 5;

fn name_of(v: &Value) -> &str {
    v.get("name").and_then(Value::as_str).unwrap_or_default()
}

fn uuid_of(v: &Value) -> Option<&str> {
    v.get("uuid").and_then(Value::as_str)
}

/// Every Avi object has a name; an empty one would match the wrong object in a lookup.
fn require_name(kind: Kind, body: &Value) -> Result<()> {
    if name_of(body).is_empty() {
        return Err(AviError::Decode {
            kind,
            name: String::new(),
            detail: "the object has no name".into(),
        });
    }
    Ok(())
}

fn decode<T: AviObject>(v: Value) -> Result<T> {
    let name = name_of(&v).to_owned();
    serde_json::from_value(v).map_err(|e| AviError::Decode {
        kind: T::KIND,
        name,
        detail: e.to_string(),
    })
}

fn encode<T: AviObject>(obj: &T) -> Result<Value> {
    serde_json::to_value(obj).map_err(|e| AviError::Decode {
        kind: T::KIND,
        name: obj.name().to_owned(),
        detail: e.to_string(),
    })
}

impl AviClient {
    /// An object by uuid; `None` when it does not exist.
    pub async fn get_raw(&self, kind: Kind, uuid: &str) -> Result<Option<Value>> {
        let call = Call {
            method: Method::GET,
            kind,
            name: uuid,
            path: format!("/api/{}/{uuid}?include_name=true", kind.path()),
            body: None,
            idempotent: true,
        };
        let answer = self.send(&call).await?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 => Ok(None),
            _ => Err(Self::fail(&call, &answer)),
        }
    }

    /// An object by name in this client's tenant; `None` when it does not exist.
    pub async fn find_raw(&self, kind: Kind, name: &str) -> Result<Option<Value>> {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .finish();
        let call = Call {
            method: Method::GET,
            kind,
            name,
            path: format!("/api/{}?{q}&include_name=true", kind.path()),
            body: None,
            idempotent: true,
        };
        let answer = self.send(&call).await?;
        if answer.status != 200 {
            return Err(Self::fail(&call, &answer));
        }
        Ok(answer
            .body
            .get("results")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .cloned())
    }

    /// Every object of a kind in this client's tenant, whoever made it (all pages): to find,
    /// say, the pools that still refer to an object before deleting it.
    pub async fn list_all_raw(&self, kind: Kind) -> Result<Vec<Value>> {
        self.list_raw(kind, "").await
    }

    /// Every object of a kind created by `created_by` (all pages).
    pub async fn list_owned_raw(&self, kind: Kind, created_by: &str) -> Result<Vec<Value>> {
        self.list_raw(kind, &owner::owner_query(kind, created_by))
            .await
    }

    /// Creates an object. A lost answer is never blindly re-POSTed: the client first looks the
    /// name up. A 409 means it exists: updated if ours, an ownership error if not.
    pub async fn create_raw(&self, kind: Kind, body: &Value) -> Result<Value> {
        require_name(kind, body)?;
        let mut body = body.clone();
        owner::normalize(kind, &mut body);
        let body = &body;
        // Fields wanted unset are simply not sent; an update after a 409 still clears them.
        let post_body = without_nulls(body);
        let ours = owner_of(kind, body);
        let name = name_of(body).to_owned();
        let policy = self.config().retry.clone();
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let call = Call {
                method: Method::POST,
                kind,
                name: &name,
                path: format!("/api/{}", kind.path()),
                body: Some(&post_body),
                idempotent: false,
            };
            let outcome = self.send(&call).await;
            let budget_left =
                attempt < policy.max_attempts && started.elapsed() < policy.max_elapsed;
            match outcome {
                Ok(a) if matches!(a.status, 200 | 201) => return Ok(a.body),
                Ok(a) if a.status == 409 => {
                    let Some(existing) = self.find_raw(kind, &name).await? else {
                        // Names can stay reserved for a moment after a delete: try again.
                        if budget_left {
                            tokio::time::sleep(policy.initial_backoff).await;
                            continue;
                        }
                        return Err(Self::fail(&call, &a));
                    };
                    self.check_owner(kind, &existing, ours.as_deref())?;
                    return self.update_raw(kind, &existing, body).await;
                }
                Ok(a) if (a.status >= 500 || a.status == 408) && budget_left => {}
                Ok(a) => return Err(Self::fail(&call, &a)),
                Err(AviError::Transport { .. }) if budget_left => {}
                Err(e) => return Err(e),
            }
            // The outcome is unknown: did the POST happen?
            tokio::time::sleep(policy.initial_backoff.saturating_mul(attempt)).await;
            if let Some(existing) = self.find_raw(kind, &name).await? {
                self.check_owner(kind, &existing, ours.as_deref())?;
                return Ok(existing);
            }
        }
    }

    /// Writes `desired` over `existing` with a PUT; on 412 re-reads and merges again.
    pub async fn update_raw(&self, kind: Kind, existing: &Value, desired: &Value) -> Result<Value> {
        let mut desired = desired.clone();
        owner::normalize(kind, &mut desired);
        let desired = &desired;
        let name = name_of(desired).to_owned();
        let uuid = uuid_of(existing)
            .ok_or_else(|| AviError::Decode {
                kind,
                name: name.clone(),
                detail: "object without uuid".into(),
            })?
            .to_owned();
        let mut current = existing.clone();
        for _ in 0..PRECONDITION_RETRIES {
            let body = merge_over(&current, desired);
            let call = Call {
                method: Method::PUT,
                kind,
                name: &name,
                path: format!("/api/{}/{uuid}", kind.path()),
                body: Some(&body),
                idempotent: true,
            };
            let answer = self.send(&call).await?;
            match answer.status {
                200 => return Ok(answer.body),
                412 => match self.get_raw(kind, &uuid).await? {
                    Some(fresh) => current = fresh,
                    None => return Err(Self::fail(&call, &answer)),
                },
                _ => return Err(Self::fail(&call, &answer)),
            }
        }
        Err(AviError::Api {
            method: "PUT",
            kind,
            name,
            status: 412,
            message: "object kept changing under us".into(),
        })
    }

    /// Deletes by uuid; an object already gone is success.
    pub async fn delete_raw(&self, kind: Kind, uuid: &str) -> Result<()> {
        let call = Call {
            method: Method::DELETE,
            kind,
            name: uuid,
            path: format!("/api/{}/{uuid}", kind.path()),
            body: None,
            idempotent: true,
        };
        let answer = self.send(&call).await?;
        match answer.status {
            200 | 204 | 404 => Ok(()),
            _ => Err(Self::fail(&call, &answer)),
        }
    }

    /// Creates if missing, updates only if a field we set differs, else writes nothing.
    /// Never modifies an object whose `created_by` is not ours.
    pub async fn ensure_raw(&self, kind: Kind, desired: &Value) -> Result<Ensured> {
        require_name(kind, desired)?;
        match self.find_raw(kind, name_of(desired)).await? {
            None => {
                let created = self.create_raw(kind, desired).await?;
                Ok(Ensured::Created {
                    uuid: uuid_of(&created).unwrap_or_default().to_owned(),
                })
            }
            Some(existing) => self.converge(kind, &existing, desired).await,
        }
    }

    /// Brings a known existing object to `desired` (the update half of `ensure`).
    pub(crate) async fn converge(
        &self,
        kind: Kind,
        existing: &Value,
        desired: &Value,
    ) -> Result<Ensured> {
        let mut desired = desired.clone();
        owner::normalize(kind, &mut desired);
        let desired = &desired;
        self.check_owner(kind, existing, owner_of(kind, desired).as_deref())?;
        let uuid = uuid_of(existing).unwrap_or_default().to_owned();
        let fields = differing_fields(desired, existing);
        if fields.is_empty() {
            return Ok(Ensured::Unchanged { uuid });
        }
        self.update_raw(kind, existing, desired).await?;
        Ok(Ensured::Updated { uuid, fields })
    }

    fn check_owner(&self, kind: Kind, existing: &Value, ours: Option<&str>) -> Result<()> {
        let owner = owner_of(kind, existing);
        if owner.as_deref() == ours {
            return Ok(());
        }
        Err(AviError::Ownership {
            kind,
            name: name_of(existing).to_owned(),
            owner,
            ours: ours.map(str::to_owned),
        })
    }

    // ------------------------------------------------------------ typed

    /// A typed object by uuid.
    pub async fn get<T: AviObject>(&self, uuid: &str) -> Result<Option<T>> {
        self.get_raw(T::KIND, uuid).await?.map(decode).transpose()
    }

    /// A typed object by name.
    pub async fn get_by_name<T: AviObject>(&self, name: &str) -> Result<Option<T>> {
        self.find_raw(T::KIND, name).await?.map(decode).transpose()
    }

    /// Every object of `T`'s kind created by `created_by`.
    pub async fn list_owned<T: AviObject>(&self, created_by: &str) -> Result<Vec<T>> {
        self.list_owned_raw(T::KIND, created_by)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Creates an object (see [`AviClient::create_raw`]).
    pub async fn create<T: AviObject>(&self, obj: &T) -> Result<T> {
        decode(self.create_raw(T::KIND, &encode(obj)?).await?)
    }

    /// Writes `obj` over the stored object of the same name (read-modify-write).
    pub async fn update<T: AviObject>(&self, obj: &T) -> Result<T> {
        let desired = encode(obj)?;
        let existing = self
            .find_raw(T::KIND, obj.name())
            .await?
            .ok_or_else(|| AviError::Api {
                method: "PUT",
                kind: T::KIND,
                name: obj.name().to_owned(),
                status: 404,
                message: format!("{} object not found!", T::KIND),
            })?;
        self.check_owner(T::KIND, &existing, obj.created_by())?;
        decode(self.update_raw(T::KIND, &existing, &desired).await?)
    }

    /// Deletes the object of that name if it exists and is ours.
    pub async fn delete_by_name<T: AviObject>(
        &self,
        name: &str,
        created_by: Option<&str>,
    ) -> Result<bool> {
        match self.find_raw(T::KIND, name).await? {
            None => Ok(false),
            Some(existing) => {
                self.check_owner(T::KIND, &existing, created_by)?;
                let uuid = uuid_of(&existing).unwrap_or_default().to_owned();
                self.delete_raw(T::KIND, &uuid).await?;
                Ok(true)
            }
        }
    }

    /// Creates, updates or leaves alone (see [`AviClient::ensure_raw`]).
    ///
    /// ```no_run
    /// # async fn demo(client: avi_client::AviClient) -> avi_client::Result<()> {
    /// use avi_client::models::Pool;
    /// let pool = Pool { name: "cluster--default-svc-80".into(), created_by: Some("ako-cluster".into()),
    ///                   ..Pool::default() };
    /// let outcome = client.ensure(&pool).await?;   // Created, then Unchanged on the next call
    /// # Ok(()) }
    /// ```
    pub async fn ensure<T: AviObject>(&self, obj: &T) -> Result<Ensured> {
        self.ensure_raw(T::KIND, &encode(obj)?).await
    }
}

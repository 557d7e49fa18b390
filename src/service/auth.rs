//! Bearer tokens and roles.
//!
//! Tokens are configured by their SHA-256 (the server never stores a token), and
//! looked up by the hash of the presented one. Every RPC names the roles that may
//! call it ([`Method::roles`]); with no tokens configured every caller is
//! `anonymous` with every role, which the configuration allows on loopback only.

use super::config::TokenConfig;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tonic::metadata::MetadataMap;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Screen documents.
    Submitter,
    /// Submit review decisions; read records.
    Reviewer,
    /// Read records, checkpoints and proofs.
    Auditor,
    /// Reload rules; read records.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Submitter, Role::Reviewer, Role::Auditor, Role::Admin];

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Submitter => "submitter",
            Role::Reviewer => "reviewer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

/// The RPCs of `mishen.v1.ScreeningService`: a closed set, so the access table
/// below is checked for completeness by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `Screen`.
    Screen,
    /// `ScreenStream`.
    ScreenStream,
    /// `GetAuditRecord`.
    GetAuditRecord,
    /// `GetCheckpoint`.
    GetCheckpoint,
    /// `GetInclusionProof`.
    GetInclusionProof,
    /// `SubmitReview`.
    SubmitReview,
    /// `ListRules`.
    ListRules,
    /// `GetPublicKey`.
    GetPublicKey,
    /// `ReloadRules`.
    ReloadRules,
    /// `RotateKey`.
    RotateKey,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 10] = [
        Method::Screen,
        Method::ScreenStream,
        Method::GetAuditRecord,
        Method::GetCheckpoint,
        Method::GetInclusionProof,
        Method::SubmitReview,
        Method::ListRules,
        Method::GetPublicKey,
        Method::ReloadRules,
        Method::RotateKey,
    ];

    /// The RPC name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Screen => "Screen",
            Method::ScreenStream => "ScreenStream",
            Method::GetAuditRecord => "GetAuditRecord",
            Method::GetCheckpoint => "GetCheckpoint",
            Method::GetInclusionProof => "GetInclusionProof",
            Method::SubmitReview => "SubmitReview",
            Method::ListRules => "ListRules",
            Method::GetPublicKey => "GetPublicKey",
            Method::ReloadRules => "ReloadRules",
            Method::RotateKey => "RotateKey",
        }
    }

    /// The roles that may call it.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Method::Screen | Method::ScreenStream => &[Submitter],
            Method::SubmitReview => &[Reviewer],
            Method::GetAuditRecord | Method::GetCheckpoint | Method::GetInclusionProof => {
                &[Reviewer, Auditor, Admin]
            }
            Method::ListRules | Method::GetPublicKey => &[Submitter, Reviewer, Auditor, Admin],
            Method::ReloadRules | Method::RotateKey => &[Admin],
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Token name, or `anonymous`.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its own limit on documents in flight, shared by all its requests.
    pub quota: Option<Quota>,
}

/// A token's documents-in-flight limit.
#[derive(Debug, Clone)]
pub struct Quota {
    /// The limit.
    pub max: usize,
    /// One permit per document in flight.
    pub permits: Arc<Semaphore>,
}

impl PartialEq for Quota {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.permits, &other.permits)
    }
}
impl Eq for Quota {}

impl Identity {
    /// The audit actor: `grpc:<name>`.
    pub fn actor(&self) -> String {
        format!("grpc:{}", self.name)
    }

    /// A slot of this token's quota for one document, if it has a quota:
    /// `Err` when all of them are taken (the caller refuses the document).
    pub fn try_quota(&self) -> Result<Option<OwnedSemaphorePermit>, usize> {
        match &self.quota {
            None => Ok(None),
            Some(q) => q.permits.clone().try_acquire_owned().map(Some).map_err(|_| q.max),
        }
    }

    /// Waits for a slot of this token's quota (streams), if it has one.
    pub async fn quota(&self) -> Option<OwnedSemaphorePermit> {
        match &self.quota {
            None => None,
            Some(q) => q.permits.clone().acquire_owned().await.ok(),
        }
    }
}

/// The SHA-256 of the token in an `Authorization: Bearer <token>` value (the
/// form tokens are configured in); `None` if the value is not that.
pub fn bearer_sha256(value: &str) -> Option<[u8; 32]> {
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then(|| Sha256::digest(token.as_bytes()).into())
}

/// Checks bearer tokens.
#[derive(Debug, Clone)]
pub struct Authenticator {
    tokens: HashMap<[u8; 32], Identity>,
}

impl Authenticator {
    /// From the configured tokens (already validated).
    pub fn new(tokens: &[TokenConfig]) -> Authenticator {
        let tokens = tokens
            .iter()
            .filter_map(|t| {
                let h: [u8; 32] = hex::decode(&t.sha256).ok()?.try_into().ok()?;
                let quota = t.max_concurrency.map(|max| Quota { max, permits: Arc::new(Semaphore::new(max.max(1))) });
                Some((h, Identity { name: t.name.clone(), roles: t.roles.clone(), quota }))
            })
            .collect();
        Authenticator { tokens }
    }

    /// Whether tokens are required.
    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Authenticates the caller and checks that it may call `m`.
    pub fn authorize(&self, md: &MetadataMap, m: Method) -> Result<Identity, Status> {
        let id = if self.tokens.is_empty() {
            Identity { name: "anonymous".into(), roles: Role::ALL.to_vec(), quota: None }
        } else {
            let v = md
                .get("authorization")
                .ok_or_else(|| Status::unauthenticated("missing `authorization: Bearer <token>` metadata"))?;
            let v = v
                .to_str()
                .map_err(|_| Status::unauthenticated("the authorization metadata is not ASCII"))?;
            let h = bearer_sha256(v)
                .ok_or_else(|| Status::unauthenticated("the authorization metadata must be `Bearer <token>`"))?;
            self.tokens
                .get(&h)
                .cloned()
                .ok_or_else(|| Status::unauthenticated("unknown token"))?
        };
        if m.roles().iter().any(|r| id.roles.contains(r)) {
            Ok(id)
        } else {
            let need: Vec<&str> = m.roles().iter().map(|r| r.as_str()).collect();
            Err(Status::permission_denied(format!(
                "{} may not call {}: it needs the role {}",
                id.name,
                m.as_str(),
                need.join(" or ")
            )))
        }
    }
}

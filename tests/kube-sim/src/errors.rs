//! API errors as `meta/v1` `Status` bodies, with the API server's reasons and messages.

use super::resources::Res;
use serde_json::{json, Map, Value};

/// An error the API answers with a `Status` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// `Retry-After` header and `details.retryAfterSeconds`.
    pub retry_after: Option<u64>,
}

/// The `reason` the API server gives for an HTTP code.
pub(crate) fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn details(res: &Res, name: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !res.group.is_empty() {
        d.insert("group".into(), json!(res.group));
    }
    d.insert("kind".into(), json!(res.name));
    Value::Object(d)
}

impl ApiError {
    fn new(code: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason: reason_for(code),
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// `pods "x" not found`.
    pub(crate) fn not_found(res: &Res, name: &str) -> ApiError {
        ApiError {
            details: Some(details(res, name)),
            ..ApiError::new(404, format!("{} \"{name}\" not found", res.qualified()))
        }
    }

    /// `namespaces "x" not found` (creating into a missing namespace).
    pub(crate) fn namespace_not_found(ns: &str) -> ApiError {
        ApiError {
            details: Some(json!({"name": ns, "kind": "namespaces"})),
            ..ApiError::new(404, format!("namespaces \"{ns}\" not found"))
        }
    }

    /// `pods "x" already exists`.
    pub(crate) fn already_exists(res: &Res, name: &str) -> ApiError {
        ApiError {
            reason: "AlreadyExists",
            details: Some(details(res, name)),
            ..ApiError::new(
                409,
                format!("{} \"{name}\" already exists", res.qualified()),
            )
        }
    }

    /// A stale `resourceVersion` or failed precondition.
    pub(crate) fn conflict(res: &Res, name: &str, why: &str) -> ApiError {
        ApiError {
            details: Some(details(res, name)),
            ..ApiError::new(
                409,
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    res.qualified()
                ),
            )
        }
    }

    /// The standard optimistic-concurrency conflict.
    pub(crate) fn stale(res: &Res, name: &str) -> ApiError {
        ApiError::conflict(
            res,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 400 BadRequest.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    /// 422 Invalid: `Pod "x" is invalid: [field: message, ...]`.
    pub(crate) fn invalid(res: &Res, name: &str, causes: &[(String, String)]) -> ApiError {
        let kind_group = if res.group.is_empty() {
            res.kind.to_string()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let list: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !res.group.is_empty() {
            d.insert("group".into(), json!(res.group));
        }
        d.insert("kind".into(), json!(res.kind));
        d.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
                    .collect(),
            ),
        );
        ApiError {
            details: Some(Value::Object(d)),
            ..ApiError::new(422, format!("{kind_group} \"{name}\" is invalid: {joined}"))
        }
    }

    /// 422 for a patch that does not apply.
    pub(crate) fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(422, message)
    }

    /// 405 for a verb a route does not support.
    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::new(
            405,
            "the server does not allow this method on the requested resource",
        )
    }

    /// 404 for a path no route serves.
    pub(crate) fn path_not_found() -> ApiError {
        ApiError {
            details: Some(
                json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}),
            ),
            ..ApiError::new(404, "the server could not find the requested resource")
        }
    }

    /// 410 Expired (a watch from a compacted resourceVersion).
    pub(crate) fn expired(message: impl Into<String>) -> ApiError {
        ApiError::new(410, message)
    }

    /// 415 for a body or patch type the route does not take.
    pub(crate) fn unsupported_media(content_type: &str, accepted: &str) -> ApiError {
        ApiError::new(
            415,
            format!(
                "the body of the request was in an unknown format ({content_type}) - accepted media types include: {accepted}"
            ),
        )
    }

    /// The answer of an injected fault.
    pub(crate) fn injected(code: u16, retry_after: Option<u64>) -> ApiError {
        let message = match code {
            429 => "Too many requests, please try again later.".to_string(),
            500 => "Internal error occurred: injected fault".to_string(),
            503 => "The server is currently unable to handle the request".to_string(),
            504 => "The server was unable to return a response in the time allotted".to_string(),
            _ => format!("injected fault ({code})"),
        };
        let details = match (code, retry_after) {
            (_, Some(secs)) => Some(json!({"retryAfterSeconds": secs})),
            (500, None) => Some(json!({"causes": [{"message": "injected fault"}]})),
            _ => None,
        };
        ApiError {
            details,
            retry_after,
            ..ApiError::new(code, message)
        }
    }

    /// The `Status` body.
    pub(crate) fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(m)) = (&self.details, s.as_object_mut()) {
            m.insert("details".into(), d.clone());
        }
        s
    }
}

/// A `Status` with `status: Success` (delete of an object that is gone, eviction).
pub(crate) fn success(code: u16, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "code": code,
    });
    if let (Some(d), Some(m)) = (details, s.as_object_mut()) {
        m.insert("details".into(), d);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS};

    #[test]
    fn status_bodies() {
        let e = ApiError::not_found(&PODS, "x").to_status();
        assert_eq!(e["kind"], "Status");
        assert_eq!(e["apiVersion"], "v1");
        assert_eq!(e["status"], "Failure");
        assert_eq!(e["message"], "pods \"x\" not found");
        assert_eq!(e["reason"], "NotFound");
        assert_eq!(e["code"], 404);
        assert_eq!(e["details"], json!({"name": "x", "kind": "pods"}));

        let e = ApiError::already_exists(&DEPLOYMENTS, "web").to_status();
        assert_eq!(e["message"], "deployments.apps \"web\" already exists");
        assert_eq!(e["details"]["group"], "apps");
        assert_eq!(e["code"], 409);
        assert_eq!(e["reason"], "AlreadyExists");
        assert_eq!(ApiError::stale(&PODS, "p").reason, "Conflict");

        let e = ApiError::injected(429, Some(2));
        assert_eq!(e.reason, "TooManyRequests");
        assert_eq!(e.to_status()["details"]["retryAfterSeconds"], 2);
        assert_eq!(ApiError::injected(503, None).reason, "ServiceUnavailable");
        assert_eq!(ApiError::injected(500, None).reason, "InternalError");

        let e = ApiError::invalid(&PODS, "X", &[("metadata.name".into(), "bad".into())]);
        assert_eq!(e.message, "Pod \"X\" is invalid: metadata.name: bad");
        assert_eq!(e.code, 422);
        assert_eq!(ApiError::stale(&PODS, "p").code, 409);
        assert_eq!(success(201, None)["status"], "Success");
    }
}

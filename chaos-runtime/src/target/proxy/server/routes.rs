//! The endpoints: Toxiproxy's routes, methods, bodies and statuses, on a [`Registry`].

use super::error::ApiError;
use super::json::{proxies_json, proxy_json, toxics_json, ProxyConfig, ProxyPatch};
use super::registry::Registry;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

/// The largest request body read (populate lists included).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The version `GET /version` reports.
pub(super) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// An answer: a status and a JSON body (none for 204).
struct Answer {
    status: u16,
    body: Option<Value>,
    /// The methods of the path, for a 405's `Allow`.
    allow: Option<String>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            allow: None,
        }
    }

    fn no_content() -> Answer {
        Answer {
            status: 204,
            body: None,
            allow: None,
        }
    }
}

impl From<ApiError> for Answer {
    fn from(e: ApiError) -> Answer {
        Answer::json(e.status(), e.to_json())
    }
}

/// Answers one request.
pub(super) async fn handle(
    registry: Registry,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let answer = answer(&registry, req).await;
    let status = answer.status;
    if status >= 500 {
        tracing::warn!(%method, %path, status, "API request failed");
    } else {
        tracing::debug!(%method, %path, status, "API request");
    }
    Ok(respond(answer))
}

async fn answer(registry: &Registry, req: Request<Incoming>) -> Answer {
    // Toxiproxy refuses browsers, so that a web page cannot drive the API from a user's
    // machine.
    if req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"))
    {
        return ApiError::new(
            403,
            "User agent not allowed: the API refuses browsers (a `Mozilla/` User-Agent), as \
             Toxiproxy does",
        )
        .into();
    }
    let method = req.method().clone();
    let raw_path = req.uri().path().to_owned();
    let segments = match segments(&raw_path) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let allowed: &[&str] = match segs.as_slice() {
        ["reset"] | ["populate"] => &["POST"],
        ["version"] => &["GET"],
        ["proxies"] | ["proxies", _, "toxics"] => &["GET", "POST"],
        ["proxies", _] | ["proxies", _, "toxics", _] => &["GET", "POST", "PATCH", "DELETE"],
        _ => return ApiError::no_route(method.as_str(), &raw_path).into(),
    };
    if !allowed.contains(&method.as_str()) {
        let mut a: Answer =
            ApiError::method_not_allowed(method.as_str(), &raw_path, allowed).into();
        a.allow = Some(allowed.join(", "));
        return a;
    }
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let parse = |what: &str| -> Result<Value, ApiError> {
        serde_json::from_slice(&body).map_err(|e| {
            if body.iter().all(u8::is_ascii_whitespace) {
                ApiError::bad_body(what, "the body is empty")
            } else {
                ApiError::bad_body(what, format!("not JSON: {e}"))
            }
        })
    };
    let result: Result<Answer, ApiError> = async {
        Ok(match (&method, segs.as_slice()) {
            (&Method::GET, ["version"]) => Answer::json(200, json!({ "version": VERSION })),
            (&Method::POST, ["reset"]) => {
                registry.reset().await;
                Answer::no_content()
            }
            (&Method::GET, ["proxies"]) => {
                Answer::json(200, proxies_json(&registry.proxies().await))
            }
            (&Method::POST, ["proxies"]) => {
                let config = ProxyConfig::from_json(&parse(
                    "a proxy as a JSON object {\"name\", \"listen\", \"upstream\", \"enabled\"}",
                )?)?;
                Answer::json(201, proxy_json(&registry.create(config).await?))
            }
            (&Method::POST, ["populate"]) => {
                let configs = ProxyConfig::list_from_json(&parse(
                    "a JSON array of proxies, each {\"name\", \"listen\", \"upstream\", \"enabled\"}",
                )?)?;
                let (proxies, error) = registry.populate(configs).await;
                let list: Vec<Value> = proxies.iter().map(proxy_json).collect();
                match error {
                    None => Answer::json(201, json!({ "proxies": list })),
                    Some(e) => {
                        let mut body = e.to_json();
                        body["proxies"] = Value::Array(list);
                        Answer::json(e.status(), body)
                    }
                }
            }
            (&Method::GET, ["proxies", name]) => {
                Answer::json(200, proxy_json(&registry.proxy(name).await?))
            }
            (&Method::POST | &Method::PATCH, ["proxies", name]) => {
                // Toxiproxy looks the proxy up before it reads the body.
                registry.proxy(name).await?;
                let patch = ProxyPatch::from_json(
                    name,
                    &parse("a JSON object {\"listen\", \"upstream\", \"enabled\"}")?,
                )?;
                Answer::json(200, proxy_json(&registry.update(name, patch).await?))
            }
            (&Method::DELETE, ["proxies", name]) => {
                registry.delete(name).await?;
                Answer::no_content()
            }
            (&Method::GET, ["proxies", name, "toxics"]) => {
                Answer::json(200, toxics_json(&registry.toxics(name).await?))
            }
            (&Method::POST, ["proxies", name, "toxics"]) => {
                registry.proxy(name).await?;
                let toxic = parse(
                    "a toxic as a JSON object {\"name\", \"type\", \"stream\", \"toxicity\", \
                     \"attributes\"}",
                )?;
                Answer::json(200, registry.add_toxic(name, &toxic).await?.to_json())
            }
            (&Method::GET, ["proxies", name, "toxics", toxic]) => {
                Answer::json(200, registry.toxic(name, toxic).await?.to_json())
            }
            (&Method::POST | &Method::PATCH, ["proxies", name, "toxics", toxic]) => {
                registry.toxic(name, toxic).await?;
                let patch = parse("a JSON object {\"attributes\", \"toxicity\"}")?;
                Answer::json(
                    200,
                    registry.update_toxic(name, toxic, &patch).await?.to_json(),
                )
            }
            (&Method::DELETE, ["proxies", name, "toxics", toxic]) => {
                registry.remove_toxic(name, toxic).await?;
                Answer::no_content()
            }
            _ => return Err(ApiError::no_route(method.as_str(), &raw_path)),
        })
    }
    .await;
    result.unwrap_or_else(Answer::from)
}

/// The path's segments, percent-decoded; one trailing slash is ignored.
fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    trimmed
        .split('/')
        .map(|s| {
            percent_decode(s).ok_or_else(|| {
                ApiError::new(
                    400,
                    format!("bad request: path segment `{s}` is not valid percent-encoded UTF-8"),
                )
            })
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            413,
            format!("request body too large: the limit is {MAX_BODY} bytes"),
        )),
        Err(e) => Err(ApiError::new(
            400,
            format!("bad request body: cannot read it: {e}"),
        )),
    }
}

fn respond(answer: Answer) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = match answer.body {
        Some(v) => {
            let mut text = v.to_string();
            text.push('\n');
            let mut r = Response::new(Full::new(Bytes::from(text)));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        None => Response::new(Full::new(Bytes::new())),
    };
    *res.status_mut() = status;
    if let Some(allow) = answer.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        res.headers_mut().insert(ALLOW, allow);
    }
    res
}

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

const FIELDS: [(&str, &str); 3] = [("id", "/data/id"), ("name", "/data/attributes/name"), ("status", "/meta/status")];

#[http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let url = std::env::var("RELAY_UPSTREAM_URL").unwrap_or_default();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return (StatusCode::BAD_REQUEST, "unreadable body".to_string()).into_response(),
    };
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return (StatusCode::BAD_REQUEST, "invalid json".to_string()).into_response();
    }
    let upstream = http::Request::post(url)
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Full::new(Bytes::from(body.to_vec())))
        .unwrap();
    let answer = match spin_sdk::http::send(upstream).await {
        Ok(answer) => answer,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream unreachable".to_string()).into_response(),
    };
    if !answer.status().is_success() {
        return (StatusCode::BAD_GATEWAY, "upstream status".to_string()).into_response();
    }
    let bytes = match answer.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream body".to_string()).into_response(),
    };
    let document: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(document) => document,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("upstream invalid json: {e} ({} bytes)", bytes.len())).into_response(),
    };
    let mut out = serde_json::Map::new();
    for (name, pointer) in FIELDS {
        out.insert(name.to_string(), document.pointer(pointer).cloned().unwrap_or(serde_json::Value::Null));
    }
    spin_sdk::http::Json(serde_json::Value::Object(out)).into_response()
}

use wstd::http::{Body, Client, Error, Request, Response, StatusCode};

const FIELDS: [(&str, &str); 3] = [("id", "/data/id"), ("name", "/data/attributes/name"), ("status", "/meta/status")];

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    let url = std::env::var("RELAY_UPSTREAM_URL").unwrap_or_default();
    let mut incoming = request.into_body();
    let body = incoming.contents().await?.to_vec();
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Ok(Response::builder().status(StatusCode::BAD_REQUEST).body(Body::from("invalid json"))?);
    }
    let upstream = Request::post(url).header("content-type", "application/json").body(Body::from(body))?;
    let answer = Client::new().send(upstream).await?;
    if !answer.status().is_success() {
        return Ok(Response::builder().status(StatusCode::BAD_GATEWAY).body(Body::from("upstream status"))?);
    }
    let document: serde_json::Value = answer.into_body().json().await?;
    let mut out = serde_json::Map::new();
    for (name, pointer) in FIELDS {
        out.insert(name.to_string(), document.pointer(pointer).cloned().unwrap_or(serde_json::Value::Null));
    }
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&serde_json::Value::Object(out)).unwrap()))?)
}

//! The HTTP side of media: `POST /api/v1/media` (multipart upload, canonical), multipart bodies of
//! dialect routes that carry files ([`read_form`]), and `GET /media/{id}` (signed URLs only).

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use quip_sdk::ErrorCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sign::{self, Refused};
use super::store::MediaStore;
use crate::app::App;
use crate::auth;
use crate::error::ApiError;

/// Longest text field of a multipart form, and the most text fields one may have.
const MAX_TEXT_FIELD: usize = 64 * 1024;
const MAX_TEXT_FIELDS: usize = 32;

/// A parsed multipart form: its text fields, and its files stored, as attachment objects.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Map<String, Value>,
    pub files: Vec<Value>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "the upload is too large")
    } else {
        ApiError::invalid(format!("bad multipart body: {}", e.body_text()))
    }
}

/// The attachment object of a stored file (what `message:send` takes in `attachments`), with a fresh
/// signed URL and its expiry.
pub fn attachment(id: &str, meta: &super::store::Meta) -> Value {
    let (url, expires_at) = sign::url_for(id);
    json!({
        "id": id,
        "kind": super::kind_of(&meta.mime),
        "url": url,
        "mime": meta.mime,
        "name": meta.name,
        "size": meta.size,
        "expiresAt": expires_at * 1000,
    })
}

/// Reads every part: a part with a file name is stored (type checked on its bytes, size limited while it
/// streams; at most `max_files` of them); any other part is a text field.
pub async fn read_form(
    store: &MediaStore,
    mut form: Multipart,
    max_files: usize,
    owner: &str,
) -> Result<Form, ApiError> {
    let mut out = Form::default();
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(_) if out.files.len() == max_files => {
                return Err(ApiError::new(ErrorCode::TooManyAttachments, format!("at most {max_files} files")));
            }
            Some(file_name) => {
                let mut upload = store.begin(owner).await?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    upload.write(&chunk).await?;
                }
                let (id, meta) = store.finish(upload, &file_name).await?;
                tracing::info!(media = %id, mime = %meta.mime, size = meta.size, "media stored");
                out.files.push(attachment(&id, &meta));
            }
            None if out.fields.len() == MAX_TEXT_FIELDS => {
                return Err(ApiError::invalid(format!("at most {MAX_TEXT_FIELDS} form fields")));
            }
            None => {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_TEXT_FIELD {
                        return Err(ApiError::new(
                            ErrorCode::PayloadTooLarge,
                            format!("the field {name:?} is too long"),
                        ));
                    }
                }
                let text = String::from_utf8(text).map_err(|_| ApiError::invalid(format!("{name:?} is not UTF-8")))?;
                out.fields.insert(name, Value::String(text));
            }
        }
    }
    Ok(out)
}

/// `POST /api/v1/media`: stores the form's file and answers 201 with its attachment object.
pub async fn upload(
    State(app): State<App>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let run = async {
        let token = auth::token_from_request(&headers, uri.query()).ok_or_else(auth::missing_token)?;
        // The caller must be someone quipd accepts before anything is written.
        let client = app.rest().client(&token).await?;
        let owner = uploader(&client)?;
        let form =
            form.map_err(|e| ApiError::invalid(format!("expected a multipart/form-data body: {}", e.body_text())))?;
        let mut form = read_form(app.media(), form, 1, &owner).await?;
        form.files.pop().ok_or_else(|| ApiError::invalid("no file in the form (a part with a filename)"))
    };
    match run.await {
        Ok(data) => (StatusCode::CREATED, axum::Json(json!({ "success": true, "data": data }))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The user a session is for: whom what it uploads belongs to.
pub fn uploader(client: &quip_sdk::Client) -> Result<String, ApiError> {
    client.welcome().map(|w| w.user.id).ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "no session with quipd"))
}

/// Refuses an attachment URL naming stored media that `user` did not upload.
pub fn check_owner(url: &str, user: &str) -> Result<(), ApiError> {
    match sign::media_id(url) {
        Some(id) if !sign::owned_by(id, user) => {
            Err(ApiError::new(ErrorCode::Forbidden, "only its uploader may attach this media"))
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
pub struct Signature {
    #[serde(default)]
    exp: u64,
    #[serde(default)]
    sig: String,
}

/// `GET /media/{id}?exp=..&sig=..`: the file, if the signature holds and has not expired.
pub async fn serve(State(app): State<App>, Path(id): Path<String>, Query(q): Query<Signature>) -> Response {
    let now = sign::now_secs();
    if let Err(refused) = sign::verify(&id, q.exp, &q.sig, now) {
        let why = match refused {
            Refused::Expired => "this media URL has expired",
            _ => "this media URL is not signed",
        };
        return ApiError::new(ErrorCode::Forbidden, why).into_response();
    }
    let (meta, path) = match app.media().open(&id).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(_) => return ApiError::not_found("no such media").into_response(),
    };
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&meta.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let ascii: String = meta.name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').filter(|c| *c != '"').collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("private, max-age={}", q.exp.saturating_sub(now))) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}

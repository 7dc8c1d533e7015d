//! Uploaded files on local disk: `<media.dir>/<id>` (the bytes) and `<id>.json` (type, size, the
//! client's file name for `Content-Disposition`). Ids are random (128 bits, hex); nothing of the client's
//! file name reaches a path. A file is written to a temporary name, synced, then renamed, so a reader
//! never sees half of one; the size limit is enforced while the bytes stream in.

use std::path::{Path, PathBuf};

use quip_sdk::ErrorCode;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::config::MediaConfig;
use crate::error::ApiError;

/// What is kept beside each file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// The MIME type sniffed from the bytes.
    pub mime: String,
    pub size: u64,
    /// The client's file name, for display only.
    pub name: String,
}

/// The media directory with its limits.
#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
    max_bytes: u64,
    allowed: Vec<String>,
}

pub use super::sign::valid_id;

fn new_id(owner: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; super::sign::RANDOM_HEX / 2];
    SystemRandom::new().fill(&mut bytes).map_err(|_| ApiError::new(ErrorCode::Internal, "no randomness"))?;
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(super::sign::owned_id(&random, owner))
}

fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "media store");
    ApiError::new(ErrorCode::Internal, "the media store failed")
}

/// An upload being written (removed from disk if dropped before [`Upload::finish`]).
#[derive(Debug)]
pub struct Upload {
    id: String,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    head: Vec<u8>,
    size: u64,
    max_bytes: u64,
}

impl Upload {
    /// Appends a chunk; refuses once the total passes the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.max_bytes {
            let max = self.max_bytes;
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("the file is larger than {max} bytes")));
        }
        if self.head.len() < 64 {
            let take = (64 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        match self.file.as_mut() {
            Some(f) => f.write_all(chunk).await.map_err(io_error),
            None => Err(ApiError::new(ErrorCode::Internal, "upload already finished")),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl MediaStore {
    pub fn new(cfg: &MediaConfig) -> Self {
        Self { dir: cfg.dir.clone(), max_bytes: cfg.max_bytes, allowed: cfg.allowed_types.clone() }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Starts an upload by `owner` (a user id) into a temporary file.
    pub async fn begin(&self, owner: &str) -> Result<Upload, ApiError> {
        tokio::fs::create_dir_all(&self.dir).await.map_err(io_error)?;
        let id = new_id(owner)?;
        let tmp = self.dir.join(format!(".{id}.part"));
        let file = tokio::fs::File::create(&tmp).await.map_err(io_error)?;
        Ok(Upload { id, tmp, file: Some(file), head: Vec::new(), size: 0, max_bytes: self.max_bytes })
    }

    /// Checks the type on the bytes, makes the file durable and visible; returns its id and metadata.
    pub async fn finish(&self, mut upload: Upload, name: &str) -> Result<(String, Meta), ApiError> {
        if upload.size == 0 {
            return Err(ApiError::invalid("the file is empty"));
        }
        let Some(mime) = super::sniff(&upload.head) else {
            return Err(ApiError::new(ErrorCode::AttachmentNotAllowed, "the file's type is not one the bridge knows"));
        };
        if !self.allowed.iter().any(|t| t == mime) {
            return Err(ApiError::new(ErrorCode::AttachmentNotAllowed, format!("{mime} files are not accepted")));
        }
        let Some(mut file) = upload.file.take() else {
            return Err(ApiError::new(ErrorCode::Internal, "upload already finished"));
        };
        let result = async {
            file.flush().await?;
            file.sync_all().await?;
            drop(file);
            let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
            let meta = Meta { mime: mime.to_owned(), size: upload.size, name };
            let meta_json = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
            tokio::fs::write(self.dir.join(format!("{}.json", upload.id)), meta_json).await?;
            tokio::fs::rename(&upload.tmp, self.dir.join(&upload.id)).await?;
            Ok::<_, std::io::Error>(meta)
        }
        .await;
        match result {
            Ok(meta) => Ok((upload.id.clone(), meta)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&upload.tmp).await;
                Err(io_error(e))
            }
        }
    }

    /// The stored file `id`: its metadata and path (NotFound for an unknown or malformed id).
    pub async fn open(&self, id: &str) -> Result<(Meta, PathBuf), ApiError> {
        let missing = || ApiError::not_found("no such media");
        if !valid_id(id) {
            return Err(missing());
        }
        let meta = tokio::fs::read(self.dir.join(format!("{id}.json"))).await.map_err(|_| missing())?;
        let meta: Meta = serde_json::from_slice(&meta).map_err(|_| missing())?;
        Ok((meta, self.dir.join(id)))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn store(dir: &Path, max: u64) -> MediaStore {
        let cfg = MediaConfig { dir: dir.to_owned(), max_bytes: max, ..MediaConfig::default() };
        MediaStore::new(&cfg)
    }

    #[tokio::test]
    async fn files_are_typed_by_their_bytes_and_limited_in_size() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), 64);
        let mut up = s.begin("alice").await.unwrap();
        up.write(b"\x89PNG\r\n\x1a\n").await.unwrap();
        up.write(b"rest of a png").await.unwrap();
        let (id, meta) = s.finish(up, "cat.png").await.unwrap();
        assert!(valid_id(&id));
        assert_eq!(meta.mime, "image/png");
        let (again, path) = s.open(&id).await.unwrap();
        assert_eq!(again, meta);
        assert_eq!(std::fs::read(path).unwrap().len(), 21);

        let mut html = s.begin("alice").await.unwrap();
        html.write(b"<html><script>").await.unwrap();
        assert_eq!(s.finish(html, "cat.png").await.unwrap_err().code, ErrorCode::AttachmentNotAllowed);

        let mut big = s.begin("alice").await.unwrap();
        assert_eq!(big.write(&[0xFF; 65]).await.unwrap_err().code, ErrorCode::PayloadTooLarge);
        drop(big);
        // Nothing half-written is left behind; only the PNG and its metadata.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(s.open("../etc/passwd").await.unwrap_err().code, ErrorCode::NotFound);
    }
}

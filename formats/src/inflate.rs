//! gzip and zlib decompression with a ceiling on the output, so a corrupt or hostile
//! file cannot make a loader allocate without bound. Without the `compressed` feature
//! (the browser builds) compressed input is reported as unsupported rather than decoded.

use crate::FormatError;

/// The first two bytes of every gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// True when `bytes` start like a gzip stream, whatever the file is called.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Decompresses a gzip stream (all members) into at most `limit` bytes.
#[cfg(feature = "compressed")]
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, FormatError> {
    read_limited(flate2::read::MultiGzDecoder::new(bytes), limit, "gzip")
}

/// Decompresses a zlib stream (RFC 1950) into at most `limit` bytes. A stream cut short
/// yields what it holds; callers check the length they expect.
#[cfg(feature = "compressed")]
pub fn inflate_zlib(bytes: &[u8], limit: u64) -> Result<Vec<u8>, FormatError> {
    read_limited(flate2::read::ZlibDecoder::new(bytes), limit, "zlib")
}

/// Grows the output only as real data is decoded (never from a declared size) and
/// stops one byte past `limit` to tell "exactly at the limit" from "over it".
#[cfg(feature = "compressed")]
fn read_limited(
    decoder: impl std::io::Read,
    limit: u64,
    format: &str,
) -> Result<Vec<u8>, FormatError> {
    use std::io::Read;

    let mut out = Vec::new();
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| FormatError(format!("corrupt {format} data: {e}")))?;
    if out.len() as u64 > limit {
        return Err(FormatError(format!(
            "{format} data decompresses to more than {limit} bytes"
        )));
    }
    Ok(out)
}

#[cfg(not(feature = "compressed"))]
pub fn gunzip(_bytes: &[u8], _limit: u64) -> Result<Vec<u8>, FormatError> {
    Err(unsupported("gzip"))
}

#[cfg(not(feature = "compressed"))]
pub fn inflate_zlib(_bytes: &[u8], _limit: u64) -> Result<Vec<u8>, FormatError> {
    Err(unsupported("zlib"))
}

#[cfg(not(feature = "compressed"))]
fn unsupported(format: &str) -> FormatError {
    FormatError(format!(
        "{format}-compressed data is not read here (a build without the `compressed` feature); decompress it first"
    ))
}

#[cfg(all(test, feature = "compressed"))]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gunzip_round_trips_and_detects_magic() {
        let packed = gzip(b"hello");
        assert!(is_gzip(&packed));
        assert!(!is_gzip(b"hello"));
        assert_eq!(gunzip(&packed, 5).unwrap(), b"hello");
    }

    #[test]
    fn output_over_the_limit_is_an_error() {
        let packed = gzip(&[0; 1000]);
        let err = gunzip(&packed, 999).unwrap_err().to_string();
        assert!(err.contains("more than 999 bytes"), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let packed = gzip(&[7; 1000]);
        let err = gunzip(&packed[..packed.len() - 6], 10_000)
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt gzip"), "{err}");
    }
}

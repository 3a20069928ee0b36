//! Reading the FLV stream an encoder writes to a pipe: the file header, then tags.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest tag accepted (a 4K key frame is well under this).
const MAX_TAG_BYTES: usize = 16 * 1024 * 1024;

/// What a tag carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagKind {
    /// An audio frame (or the AAC sequence header).
    Audio,
    /// A video frame (or the AVC sequence header).
    Video,
    /// Script data (`onMetaData`).
    Script,
}

/// One FLV tag: kind, timestamp in ms, payload.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    /// Audio, video or script.
    pub(crate) kind: TagKind,
    /// Milliseconds since the stream began.
    pub(crate) timestamp: u32,
    /// The tag body as RTMP sends it.
    pub(crate) data: Bytes,
}

impl Tag {
    /// The AVC decoder configuration (must precede any frame a player decodes).
    pub(crate) fn is_video_header(&self) -> bool {
        self.kind == TagKind::Video
            && self.data.len() >= 2
            && self.data[0] & 0x0f == 7
            && self.data[1] == 0
    }

    /// The AAC decoder configuration.
    pub(crate) fn is_audio_header(&self) -> bool {
        self.kind == TagKind::Audio
            && self.data.len() >= 2
            && self.data[0] >> 4 == 10
            && self.data[1] == 0
    }

    /// A video key frame (a player can start decoding here).
    pub(crate) fn is_key_frame(&self) -> bool {
        self.kind == TagKind::Video
            && !self.is_video_header()
            && self.data.first().is_some_and(|b| b >> 4 == 1)
    }
}

/// Reads the 9-byte FLV header and the first previous-tag-size field.
pub(crate) async fn read_header(reader: &mut (impl AsyncRead + Unpin)) -> std::io::Result<()> {
    let mut header = [0u8; 9];
    reader.read_exact(&mut header).await?;
    if &header[..3] != b"FLV" {
        return Err(invalid("the encoder output is not FLV"));
    }
    let offset = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) as usize;
    if !(9..=1024).contains(&offset) {
        return Err(invalid("bad FLV header size"));
    }
    let mut skip = vec![0u8; offset - 9 + 4];
    reader.read_exact(&mut skip).await?;
    Ok(())
}

/// The next tag, or `None` at the end of the stream. Tags of other kinds are skipped.
pub(crate) async fn read_tag(
    reader: &mut (impl AsyncRead + Unpin),
) -> std::io::Result<Option<Tag>> {
    loop {
        let mut head = [0u8; 11];
        match reader.read_exact(&mut head).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let size = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
        if size > MAX_TAG_BYTES {
            return Err(invalid("FLV tag too large"));
        }
        let timestamp = u32::from_be_bytes([head[7], head[4], head[5], head[6]]);
        let mut data = vec![0u8; size + 4];
        reader.read_exact(&mut data).await?;
        data.truncate(size);
        let kind = match head[0] & 0x1f {
            8 => TagKind::Audio,
            9 => TagKind::Video,
            18 => TagKind::Script,
            _ => continue,
        };
        return Ok(Some(Tag {
            kind,
            timestamp,
            data: Bytes::from(data),
        }));
    }
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(kind: u8, ts: u32, body: &[u8]) -> Vec<u8> {
        let size = body.len() as u32;
        let mut out = vec![kind];
        out.extend_from_slice(&size.to_be_bytes()[1..]);
        out.extend_from_slice(&ts.to_be_bytes()[1..]);
        out.push((ts >> 24) as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(body);
        out.extend_from_slice(&(size + 11).to_be_bytes());
        out
    }

    #[tokio::test]
    async fn tags_are_read_with_extended_timestamps_and_classified() {
        let mut stream = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
        stream.extend(tag(18, 0, b"\x02\x00\x0aonMetaData"));
        stream.extend(tag(9, 0, &[0x17, 0, 0, 0, 0, 1]));
        stream.extend(tag(8, 0, &[0xaf, 0, 0x12]));
        stream.extend(tag(9, 0x0100_0021, &[0x17, 1, 0, 0, 0]));
        stream.extend(tag(9, 0x0100_0042, &[0x27, 1, 0, 0, 0]));
        stream.extend(tag(7, 5, b"unknown kind"));
        stream.extend(tag(8, 70, &[0xaf, 1, 9]));
        let mut reader = &stream[..];
        read_header(&mut reader).await.unwrap();
        let mut tags = Vec::new();
        while let Some(t) = read_tag(&mut reader).await.unwrap() {
            tags.push(t);
        }
        let kinds: Vec<_> = tags.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [
                TagKind::Script,
                TagKind::Video,
                TagKind::Audio,
                TagKind::Video,
                TagKind::Video,
                TagKind::Audio
            ]
        );
        assert!(tags[1].is_video_header() && !tags[1].is_key_frame());
        assert!(tags[2].is_audio_header());
        assert!(tags[3].is_key_frame());
        assert_eq!(tags[3].timestamp, 0x0100_0021);
        assert!(!tags[4].is_key_frame());
        assert!(!tags[5].is_audio_header());
    }

    #[tokio::test]
    async fn a_stream_that_is_not_flv_is_refused() {
        let mut reader = &b"RIFF\x00\x00\x00\x00WAVEfmt "[..];
        assert_eq!(
            read_header(&mut reader).await.unwrap_err().kind(),
            std::io::ErrorKind::InvalidData
        );
    }
}

//! The connection under a socket: the upgrade (RFC 6455's handshake,
//! answered here so that the upgraded connection stays in hand), frames
//! written straight to it, and tungstenite reading the client's.
//!
//! axum's `WebSocket` would write every frame through tungstenite, which
//! copies it into a buffer of its own behind the split sink's lock. Here a
//! socket's writer puts a few bytes of header before each frame it sends
//! and hands the lot to the kernel in one vectored write: a broadcast's
//! bytes, shared by every receiver, are not copied per socket
//! (docs/benchmarks.md, "Frames written straight to the connection").

use crate::middleware::error_response;
use app::error::AppError;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame, FrameHeader};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Bytes;
use tokio_tungstenite::WebSocketStream;

type Connection = TokioIo<Upgraded>;
/// Where the writer writes.
pub type Writer = WriteHalf<Connection>;
/// What the reader reads: client frames, through tungstenite.
pub type Reader = WebSocketStream<ReadOnly>;

/// A request to turn the connection into a WebSocket (HTTP/1.1: the
/// server speaks no other version).
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let headers = &parts.headers;
        let is_upgrade = parts.method == Method::GET
            && parts.version == Version::HTTP_11
            && has_token(headers, CONNECTION, "upgrade")
            && has_token(headers, UPGRADE, "websocket")
            && has_token(headers, SEC_WEBSOCKET_VERSION, "13");
        let key = headers.get(SEC_WEBSOCKET_KEY).filter(|_| is_upgrade).cloned();
        let on_upgrade = parts.extensions.remove::<OnUpgrade>();
        match (key, on_upgrade) {
            (Some(key), Some(on_upgrade)) => Ok(Self { key, on_upgrade }),
            _ => Err(error_response(AppError::BadRequest)),
        }
    }
}

/// Whether one of the `name` headers lists `token` (case aside).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|listed| listed.trim().eq_ignore_ascii_case(token))
}

impl Upgrade {
    /// Answers the handshake and runs `socket` on the connection once the
    /// answer is sent, in a task of its own: the request's task, which
    /// would hold its own state beside the socket's for the socket's whole
    /// life, ends here (0.7 KB less per idle socket, measured with axum's).
    pub fn on_upgrade<F>(
        self,
        config: WebSocketConfig,
        socket: impl FnOnce(Reader, Writer) -> F + Send + 'static,
    ) -> Response
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Self { key, on_upgrade } = self;
        tokio::spawn(async move {
            let connection = match on_upgrade.await {
                Ok(upgraded) => TokioIo::new(upgraded),
                Err(error) => {
                    tracing::debug!(%error, "a WebSocket upgrade failed");
                    return;
                }
            };
            let (read, write) = tokio::io::split(connection);
            let reader = WebSocketStream::from_raw_socket(ReadOnly(read), Role::Server, Some(config)).await;
            tokio::spawn(socket(reader, write));
        });
        let accept = derive_accept_key(key.as_bytes());
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [(CONNECTION, "upgrade"), (UPGRADE, "websocket"), (SEC_WEBSOCKET_ACCEPT, accept.as_str())],
        )
            .into_response()
    }
}

/// The read half as tungstenite sees it. On this connection only the
/// socket's writer writes, so that no frame of another is cut in two by
/// one of its own: what tungstenite would write (its answers to pings and
/// to a close) is dropped here, and the reader asks the writer for those
/// answers instead.
pub struct ReadOnly(ReadHalf<Connection>);

impl AsyncRead for ReadOnly {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadOnly {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Writes `texts` as text frames, in order, in as few system calls as the
/// kernel allows (one, unless its buffer fills).
pub async fn write_texts(
    writer: &mut (impl AsyncWrite + Unpin),
    texts: &[impl AsRef<str>],
) -> io::Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    let header = FrameHeader { opcode: OpCode::Data(Data::Text), ..FrameHeader::default() };
    let mut headers = Vec::with_capacity(texts.len() * 4);
    let mut ends = Vec::with_capacity(texts.len());
    for text in texts {
        header.format(text.as_ref().len() as u64, &mut headers).map_err(io::Error::other)?;
        ends.push(headers.len());
    }
    let mut slices = Vec::with_capacity(texts.len() * 2);
    let mut start = 0;
    for (text, end) in texts.iter().zip(ends) {
        slices.push(IoSlice::new(&headers[start..end]));
        slices.push(IoSlice::new(text.as_ref().as_bytes()));
        start = end;
    }
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        let written = writer.write_vectored(slices).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, written);
    }
    writer.flush().await
}

/// Writes one control frame (a ping, a pong or a close).
async fn write_frame(writer: &mut (impl AsyncWrite + Unpin), frame: Frame) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(frame.len());
    frame.format(&mut bytes).map_err(io::Error::other)?;
    writer.write_all(&bytes).await?;
    writer.flush().await
}

pub async fn ping(writer: &mut (impl AsyncWrite + Unpin)) -> io::Result<()> {
    write_frame(writer, Frame::ping(Vec::new())).await
}

pub async fn pong(writer: &mut (impl AsyncWrite + Unpin), payload: Bytes) -> io::Result<()> {
    write_frame(writer, Frame::pong(payload)).await
}

pub async fn close(
    writer: &mut (impl AsyncWrite + Unpin),
    code: u16,
    reason: &'static str,
) -> io::Result<()> {
    let close = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
    write_frame(writer, Frame::close(Some(close))).await?;
    writer.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    #[tokio::test]
    async fn a_client_reads_back_what_was_written() {
        let (server, client) = tokio::io::duplex(1 << 20);
        let mut client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        let (_, mut writer) = tokio::io::split(server);
        // Each length encoding: in the first byte, in two more, in eight more.
        let texts =
            [0, 125, 126, 65_535, 65_536, 200_000].map(|len| "é".repeat(len / 2) + &"x".repeat(len % 2));
        write_texts(&mut writer, &texts).await.expect("written");
        ping(&mut writer).await.expect("written");
        pong(&mut writer, Bytes::from_static(b"echo")).await.expect("written");
        close(&mut writer, 4000, "bye").await.expect("written");
        for text in &texts {
            match client.next().await {
                Some(Ok(Message::Text(read))) => assert_eq!(read.as_str(), text),
                other => panic!("expected a text of {} bytes, got {other:?}", text.len()),
            }
        }
        assert!(matches!(client.next().await, Some(Ok(Message::Ping(payload))) if payload.is_empty()));
        assert!(matches!(client.next().await, Some(Ok(Message::Pong(payload))) if &payload[..] == b"echo"));
        match client.next().await {
            Some(Ok(Message::Close(Some(close)))) => {
                assert_eq!(u16::from(close.code), 4000);
                assert_eq!(close.reason.as_str(), "bye");
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }
}

//! Mail, when the server is given an SMTP server (`--smtp-url`): only
//! password reset links for now. lettre speaks SMTP (STARTTLS or TLS with
//! rustls and Mozilla's roots), sends from the server's runtime, and never
//! holds up a request: each mail is sent by a task of its own.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How to send mail, and as whom.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The origin links in mail point to (`https://chat.example.org`).
    origin: String,
}

impl Mailer {
    /// `url`: `smtps://user:password@host` (TLS), `smtp://…?tls=required`
    /// (STARTTLS) or `smtp://host:port` (plain, for a relay on this
    /// machine); `from`: `Salon <salon@example.org>`; `origin`: where the
    /// links lead.
    pub fn new(url: &str, from: &str, origin: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("the SMTP URL: {error}"))?
            .build();
        let from = from.parse::<Mailbox>().map_err(|error| format!("the sender's address: {error}"))?;
        Ok(Self { transport, from, origin: origin.trim_end_matches('/').to_owned() })
    }

    /// Sends `to` the reset link `path`, in the background; failures are
    /// logged.
    pub fn send_reset_link(&self, to: &str, username: &str, path: &str) {
        let link = format!("{}{path}", self.origin);
        let body = format!(
            "Hello {username},\n\nSomeone (you, we hope) asked to reset your Salon password. \
             This link sets a new one; it works once, for 24 hours:\n\n{link}\n\n\
             If it was not you, ignore this mail: your password stays as it is.\n"
        );
        let message = to.parse::<Mailbox>().map_err(|error| error.to_string()).and_then(|to| {
            Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject("Reset your Salon password")
                .body(body)
                .map_err(|error| error.to_string())
        });
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(%error, "a reset mail that cannot be written");
                return;
            }
        };
        let transport = self.transport.clone();
        tokio::spawn(async move {
            match transport.send(message).await {
                Ok(_) => tracing::info!("reset mail sent"),
                Err(error) => tracing::error!(%error, "sending a reset mail"),
            }
        });
    }
}

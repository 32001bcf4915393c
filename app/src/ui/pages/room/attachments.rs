//! Attachments in the room: the files a message carries (images inline,
//! anything else as a download card), and the composer's uploads, each
//! sent at once as the whole body of one request so that its progress
//! shows and it can be cancelled (`XMLHttpRequest`: `fetch` reports no
//! upload progress).

use crate::domain::{human_size, Attachment, RoomId};
use crate::i18n::use_i18n;
use crate::t;
use leptos::prelude::*;

/// The box images show in, in CSS pixels (their thumbnail is twice that).
const SHOWN: (u32, u32) = (320, 240);

/// The files of a message.
#[component]
pub(super) fn AttachmentList(attachments: Vec<Attachment>) -> impl IntoView {
    (!attachments.is_empty()).then(|| {
        let items = attachments
            .into_iter()
            .map(|attachment| match attachment.image {
                Some(size) => view! { <ImageAttachment attachment=attachment.clone() size /> }.into_any(),
                None => view! {
                    <li>
                        <a class="attachment-file" href=attachment.url() download=attachment.name.clone()>
                            <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" fill="none"
                                stroke="currentColor" stroke-width="1.6" stroke-linejoin="round">
                                <path d="M14 3H6v18h12V7ZM14 3v4h4" />
                            </svg>
                            <span class="file-name">{attachment.name.clone()}</span>
                            <span class="file-size muted">{human_size(attachment.size)}</span>
                        </a>
                    </li>
                }
                .into_any(),
            })
            .collect_view();
        view! { <ul class="attachments">{items}</ul> }
    })
}

/// An image: its thumbnail in the timeline; activated, the full image in
/// a modal dialog (Escape or the close button leaves it), which a new tab
/// or a middle click opens on its own instead.
#[component]
fn ImageAttachment(attachment: Attachment, size: crate::domain::ImageSize) -> impl IntoView {
    let i18n = use_i18n();
    let (width, height) = shown(size.width, size.height);
    let label = (i18n.t().full_size)(&attachment.name);
    let viewing = RwSignal::new(false);
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let open = move |ev: leptos::ev::MouseEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.button() != 0 {
            return;
        }
        ev.prevent_default();
        viewing.set(true);
        if let Some(dialog) = dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    };
    let close = move || {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    let (url, name) = (attachment.url(), attachment.name.clone());
    view! {
        <li>
            <a class="attachment-image" href=attachment.url() target="_blank" rel="noopener" aria-label=label
                on:click=open>
                <img src=attachment.thumbnail_url() alt=attachment.name.clone()
                    width=width height=height loading="lazy" decoding="async" />
            </a>
            <dialog class="image-viewer" node_ref=dialog aria-label=attachment.name.clone()
                on:close=move |_| viewing.set(false)
                on:click=move |ev| {
                    // A click on the backdrop (the dialog itself) leaves.
                    if ev.target() == ev.current_target() { close(); }
                }>
                <div class="image-viewer-bar">
                    <span class="file-name">{name.clone()}</span>
                    <a class="button subtle small" href=url.clone() target="_blank" rel="noopener">
                        {t!(i18n, open_original)}
                    </a>
                    <button type="button" class="icon-button" aria-label=t!(i18n, close) on:click=move |_| close()>
                        "×"
                    </button>
                </div>
                {move || viewing.get().then(|| view! { <img src=url.clone() alt=name.clone() /> })}
            </dialog>
        </li>
    }
}

/// `width` × `height` scaled down to fit [`SHOWN`].
fn shown(width: u32, height: u32) -> (u32, u32) {
    let scale = (f64::from(SHOWN.0) / f64::from(width.max(1)))
        .min(f64::from(SHOWN.1) / f64::from(height.max(1)))
        .min(1.0);
    let side = |n: u32| ((f64::from(n) * scale).round() as u32).max(1);
    (side(width), side(height))
}

/// Where one upload is.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) enum Status {
    /// Sent so far, from 0 to 1.
    Uploading(f64),
    Done(Attachment),
    Failed(String),
}

/// One file of the composer's.
#[derive(Clone, Copy)]
pub(super) struct Upload {
    pub key: u64,
    pub name: StoredValue<String>,
    pub status: RwSignal<Status>,
    /// The request under way, to cancel it (browser only).
    #[cfg(feature = "hydrate")]
    request: StoredValue<Option<client::Request>, LocalStorage>,
}

/// The composer's files, in the order they were added.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub(super) struct Uploads {
    room: RoomId,
    list: RwSignal<Vec<Upload>>,
    next: StoredValue<u64>,
}

impl Uploads {
    pub(super) fn new(room: RoomId) -> Self {
        Self { room, list: RwSignal::new(Vec::new()), next: StoredValue::new(0) }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.with(Vec::is_empty)
    }

    /// Whether some file is still uploading, and whether one failed
    /// (tracked: for an effect that sends once they are done).
    pub(super) fn progress(&self) -> (bool, bool) {
        self.list.with(|list| {
            let statuses: Vec<Status> = list.iter().map(|u| u.status.get()).collect();
            (
                statuses.iter().any(|s| matches!(s, Status::Uploading(_))),
                statuses.iter().any(|s| matches!(s, Status::Failed(_))),
            )
        })
    }

    /// Whether some file is still uploading, now (untracked).
    pub(super) fn busy(&self) -> bool {
        untrack(|| self.progress().0)
    }

    /// The files uploaded, ready to send.
    pub(super) fn done(&self) -> Vec<Attachment> {
        self.list.with_untracked(|list| {
            list.iter()
                .filter_map(|upload| match upload.status.get_untracked() {
                    Status::Done(attachment) => Some(attachment),
                    _ => None,
                })
                .collect()
        })
    }

    /// Forgets every file (once sent).
    pub(super) fn clear(&self) {
        self.list.set(Vec::new());
    }

    /// Stops one upload, or takes one file off the message.
    pub(super) fn remove(&self, key: u64) {
        #[cfg(feature = "hydrate")]
        if let Some(upload) = self.list.with_untracked(|list| list.iter().find(|u| u.key == key).copied()) {
            if let Some(request) = upload.request.try_update_value(Option::take).flatten() {
                request.abort();
            }
        }
        self.list.update(|list| list.retain(|u| u.key != key));
    }

    /// Starts uploading the files of `files` (from the picker, a drop or a
    /// paste), as many as a message may still carry.
    #[cfg(feature = "hydrate")]
    pub(super) fn add(&self, files: web_sys::FileList, max_bytes: u64) {
        let i18n = use_i18n();
        for index in 0..files.length() {
            if self.list.with_untracked(Vec::len) >= crate::domain::MAX_ATTACHMENTS {
                break;
            }
            let Some(file) = files.get(index) else { continue };
            let key = self.next.get_value();
            self.next.set_value(key + 1);
            let upload = Upload {
                key,
                name: StoredValue::new(file.name()),
                status: RwSignal::new(Status::Uploading(0.0)),
                request: StoredValue::new_local(None),
            };
            self.list.update(|list| list.push(upload));
            if file.size() > max_bytes as f64 {
                let too_large = crate::error::Problem::FileTooLarge { max_bytes };
                upload.status.set(Status::Failed(i18n.t().problem(&too_large)));
                continue;
            }
            match client::Request::start(self.room, &file, upload.status, i18n) {
                Ok(request) => upload.request.set_value(Some(request)),
                Err(()) => upload.status.set(Status::Failed(String::new())),
            }
        }
    }
}

/// The composer's files: name, progress, and a button to cancel or remove.
#[component]
pub(super) fn UploadTray(uploads: Uploads) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        (!uploads.is_empty()).then(|| {
            view! {
                <ul class="uploads" aria-label=t!(i18n, files_to_send)>
                    <For each=move || uploads.list.get() key=|upload| upload.key let(upload)>
                        <UploadItem uploads upload />
                    </For>
                </ul>
            }
        })
    }
}

#[component]
fn UploadItem(uploads: Uploads, upload: Upload) -> impl IntoView {
    let i18n = use_i18n();
    let name = upload.name.get_value();
    let (progress_label, cancel_label, remove_label) = {
        let t = i18n.t();
        ((t.uploading_file)(&name), (t.cancel_upload)(&name), (t.remove_file)(&name))
    };
    let uploading = move || matches!(upload.status.get(), Status::Uploading(_));
    view! {
        <li class="upload" class:failed=move || matches!(upload.status.get(), Status::Failed(_))>
            <span class="file-name">{name.clone()}</span>
            {move || match upload.status.get() {
                Status::Uploading(sent) => view! {
                    <progress max="1" value=sent aria-label=progress_label.clone()></progress>
                }.into_any(),
                Status::Done(attachment) => view! {
                    <span class="file-size muted">{human_size(attachment.size)}</span>
                }.into_any(),
                Status::Failed(reason) => view! {
                    <span class="field-error" role="alert">
                        {if reason.is_empty() { i18n.t().upload_failed.to_owned() } else { reason }}
                    </span>
                }.into_any(),
            }}
            <button type="button" class="icon-button"
                aria-label=move || if uploading() { cancel_label.clone() } else { remove_label.clone() }
                on:click=move |_| uploads.remove(upload.key)>"×"</button>
        </li>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! One upload as an `XMLHttpRequest`, with the callbacks it keeps alive.

    use super::Status;
    use crate::domain::{Attachment, RoomId, UPLOAD_PATH};
    use crate::error::{AppError, Field};
    use crate::i18n::I18n;
    use leptos::prelude::*;
    use wasm_bindgen::prelude::*;
    use web_sys::{ProgressEvent, XmlHttpRequest};

    pub struct Request {
        xhr: XmlHttpRequest,
        _progress: Closure<dyn FnMut(ProgressEvent)>,
        _finished: Closure<dyn FnMut()>,
    }

    impl Request {
        /// Sends `file` to be attached in `room`, reporting to `status`.
        pub fn start(
            room: RoomId,
            file: &web_sys::File,
            status: RwSignal<Status>,
            i18n: I18n,
        ) -> Result<Self, ()> {
            let xhr = XmlHttpRequest::new().map_err(drop)?;
            let name =
                percent_encoding::utf8_percent_encode(&file.name(), percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            xhr.open("POST", &format!("{UPLOAD_PATH}?room={}&name={name}", room.0)).map_err(drop)?;
            let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
                if event.length_computable() && event.total() > 0.0 {
                    status.try_set(Status::Uploading((event.loaded() / event.total()).min(1.0)));
                }
            });
            xhr.upload().map_err(drop)?.set_onprogress(Some(progress.as_ref().unchecked_ref()));
            let finished = Closure::<dyn FnMut()>::new({
                let xhr = xhr.clone();
                move || {
                    status.try_set(outcome(&xhr, i18n));
                }
            });
            xhr.set_onloadend(Some(finished.as_ref().unchecked_ref()));
            xhr.send_with_opt_blob(Some(file)).map_err(drop)?;
            Ok(Self { xhr, _progress: progress, _finished: finished })
        }

        pub fn abort(&self) {
            self.xhr.set_onloadend(None);
            let _ = self.xhr.abort();
        }
    }

    /// What the server answered (an empty reason: the request failed).
    fn outcome(xhr: &XmlHttpRequest, i18n: I18n) -> Status {
        let status = xhr.status().unwrap_or(0);
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        if status == 200 {
            if let Ok(attachment) = serde_json::from_str::<Attachment>(&text) {
                return Status::Done(attachment);
            }
        }
        match serde_json::from_str::<AppError>(&text) {
            Ok(error) if status != 0 => Status::Failed(i18n.t().error_at(&error, Field::Attachment)),
            _ => Status::Failed(String::new()),
        }
    }
}

//! The files a visitor picks or drops, each with its path inside a picked or dropped folder
//! (`shirts/001.png`): a folder of PNGs is labelled by its subfolders' names, so the path
//! is part of the data. Dropped folders are walked through the entries API, which every
//! current browser has under its `webkit` name.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
};

/// A file and its path ("name" alone when it was not in a folder).
pub struct Named {
    pub path: String,
    pub file: File,
}

/// The files of a file input: a folder picker gives each file's path in the folder.
pub fn picked(list: Option<FileList>) -> Vec<Named> {
    let files = list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect::<Vec<_>>());
    let mut named: Vec<Named> = files
        .unwrap_or_default()
        .into_iter()
        .map(|file| {
            let path = js_sys::Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
                .ok()
                .and_then(|p| p.as_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| file.name());
            Named { path, file }
        })
        .collect();
    named.sort_by(|a, b| a.path.cmp(&b.path));
    named
}

/// The entries of a drop, taken while the drop event lasts (the browser empties its
/// `DataTransfer` after), or `None` where the entries API is missing.
pub fn drop_entries(transfer: &DataTransfer) -> Option<Vec<FileSystemEntry>> {
    let items = transfer.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Waits for a callback-style call: `call(resolve, reject)`.
async fn callback(call: impl FnOnce(&Function, &Function)) -> Result<JsValue, String> {
    let mut call = Some(call);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| format!("the dropped files could not be read ({e:?})"))
}

/// Every file under the dropped `entries`, folders walked to the bottom, with its path
/// from the drop.
pub async fn dropped(entries: Vec<FileSystemEntry>) -> Result<Vec<Named>, String> {
    let mut pending = entries;
    let mut named = Vec::new();
    while let Some(entry) = pending.pop() {
        if entry.is_directory() {
            let reader = entry
                .unchecked_into::<FileSystemDirectoryEntry>()
                .create_reader();
            // `readEntries` hands over a directory a hundred entries at a time, then nothing.
            loop {
                let batch: Array = callback(|resolve, reject| {
                    // Failures arrive through `reject`.
                    let _ = reader.read_entries_with_callback_and_callback(resolve, reject);
                })
                .await?
                .unchecked_into();
                if batch.length() == 0 {
                    break;
                }
                pending.extend(batch.iter().map(JsValue::unchecked_into::<FileSystemEntry>));
            }
        } else if entry.is_file() {
            let path = entry.full_path().trim_start_matches('/').to_owned();
            let entry: FileSystemFileEntry = entry.unchecked_into();
            let file =
                callback(|resolve, reject| entry.file_with_callback_and_callback(resolve, reject))
                    .await?
                    .unchecked_into::<File>();
            named.push(Named { path, file });
        }
    }
    named.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(named)
}

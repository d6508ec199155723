//! The visitor's access token for launching and cancelling, kept in this browser's local
//! storage (never in a URL: links get shared).

const KEY: &str = "astute.token";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn get() -> Option<String> {
    storage()?
        .get_item(KEY)
        .ok()?
        .filter(|t| !t.trim().is_empty())
}

/// Stores `token`, or forgets the stored one when it is empty.
pub fn set(token: &str) {
    if let Some(storage) = storage() {
        let _ = if token.trim().is_empty() {
            storage.remove_item(KEY)
        } else {
            storage.set_item(KEY, token.trim())
        };
    }
}

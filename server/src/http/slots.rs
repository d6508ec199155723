//! Things held open (connections, event streams), counted per client and in all, with
//! caps. A [`Slot`] gives its place back when dropped, however its holder ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Counts {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Open things per client address and in all.
#[derive(Clone, Default)]
pub struct Slots(Arc<Mutex<Counts>>);

/// One open thing's place in its [`Slots`].
pub struct Slot {
    slots: Slots,
    client: IpAddr,
}

impl Slots {
    /// A place for one more from `client`, or `None` when `client` holds `per_client`
    /// already or all clients together hold `total`.
    pub fn take(&self, client: IpAddr, per_client: usize, total: usize) -> Option<Slot> {
        let mut counts = self.lock();
        let held = counts.per_client.get(&client).copied().unwrap_or(0);
        if counts.total >= total || held >= per_client {
            return None;
        }
        counts.total += 1;
        *counts.per_client.entry(client).or_default() += 1;
        Some(Slot {
            slots: self.clone(),
            client,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.lock();
        counts.total -= 1;
        if let Some(held) = counts.per_client.get_mut(&self.client) {
            *held -= 1;
            if *held == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_client_and_in_all() {
        let slots = Slots::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let first = slots.take(a, 2, 3).unwrap();
        let _second = slots.take(a, 2, 3).unwrap();
        assert!(slots.take(a, 2, 3).is_none(), "a third from one client");
        let _other = slots.take(b, 2, 3).unwrap();
        assert!(slots.take(b, 2, 3).is_none(), "over the total");
        drop(first);
        let _again = slots.take(a, 2, 3).unwrap();
        assert_eq!(slots.lock().total, 3);
        drop((_second, _other, _again));
        assert_eq!(slots.lock().total, 0);
        assert!(slots.lock().per_client.is_empty());
    }
}

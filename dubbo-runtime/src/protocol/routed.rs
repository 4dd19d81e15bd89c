//! Pieces the built-in protocols share: the [`Exporter`] they hand out, which removes its
//! service from the listener's routing table, and de-duplication of listeners shared by
//! several exported URLs.

use std::fmt;
use std::sync::{Arc, Weak};

use crate::invoker::Exporter;
use crate::invoker::Invoker;
use crate::url::Url;

/// A listener's table of exported services, from which an export can be removed.
pub(crate) trait RouteTable: Send + Sync + 'static {
    /// Removes the export registered as `id` (later calls to it get "not found").
    fn remove_export(&self, id: u64);
}

/// The exporter of one service on a shared listener.
pub(crate) struct RoutedExporter<R: RouteTable> {
    url: Url,
    invoker: Arc<dyn Invoker>,
    table: Weak<R>,
    id: u64,
}

impl<R: RouteTable> RoutedExporter<R> {
    /// The export `id` of `invoker` in `table`, reachable at `url`.
    pub(crate) fn new(url: Url, invoker: Arc<dyn Invoker>, table: &Arc<R>, id: u64) -> Self {
        RoutedExporter {
            url,
            invoker,
            table: Arc::downgrade(table),
            id,
        }
    }
}

impl<R: RouteTable> fmt::Debug for RoutedExporter<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<R: RouteTable> Exporter for RoutedExporter<R> {
    fn url(&self) -> &Url {
        &self.url
    }

    fn invoker(&self) -> &Arc<dyn Invoker> {
        &self.invoker
    }

    fn unexport(&self) {
        if let Some(table) = self.table.upgrade() {
            table.remove_export(self.id);
        }
    }
}

/// The distinct entries of `entries` (several URLs may share one listener).
pub(crate) fn distinct<T>(entries: impl IntoIterator<Item = Arc<T>>) -> Vec<Arc<T>> {
    let mut unique: Vec<Arc<T>> = Vec::new();
    for entry in entries {
        if !unique.iter().any(|e| Arc::ptr_eq(e, &entry)) {
            unique.push(entry);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_one_of_each_shared_entry() {
        let a = Arc::new(1);
        let b = Arc::new(1);
        let got = distinct([Arc::clone(&a), Arc::clone(&b), Arc::clone(&a)]);
        assert_eq!(got.len(), 2);
        assert!(Arc::ptr_eq(&got[0], &a) && Arc::ptr_eq(&got[1], &b));
    }
}

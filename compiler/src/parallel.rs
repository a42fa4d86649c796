//! Work split over the cores in a way that cannot change a result: contiguous runs of the
//! items, one scoped thread each, the results returned in item order whatever the
//! scheduling. Used by the Kubernetes emitter (namespaces) and by out/ (writing and hashing
//! files). Also the one way the threads' shared mutexes are locked ([`locked`]).

/// The most threads one piece of work is split over.
const MAX_THREADS: usize = 8;

/// `f` of contiguous runs of `items`, in item order: one run per core (at most
/// `MAX_THREADS`), each at least `min_run` items long, so that small inputs stay on this
/// thread. This thread computes the first run. A panic in a run is resumed here.
pub fn in_runs<T: Sync, R: Send>(
    items: &[T],
    min_run: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, MAX_THREADS);
    let run = items.len().div_ceil(threads).max(min_run).max(1);
    let mut runs = items.chunks(run);
    let Some(first) = runs.next() else {
        return Vec::new();
    };
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs.map(|run| scope.spawn(move || f(run))).collect();
        let mut results = vec![f(first)];
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// The data behind `mutex`, also after a panic on another thread (which `in_runs` and the
/// scoped threads that share a mutex resume anyway): a poisoned lock is not a second error.
pub fn locked<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_the_items_in_order() {
        let items: Vec<u32> = (0..1000).collect();
        for min_run in [1, 7, 256] {
            assert_eq!(in_runs(&items, min_run, <[u32]>::to_vec).concat(), items);
        }
        // A run at least as long as the items: one run, on this thread.
        assert_eq!(in_runs(&items, 5000, <[u32]>::len), vec![1000]);
        assert!(in_runs(&[] as &[u32], 1, <[u32]>::len).is_empty());
    }
}

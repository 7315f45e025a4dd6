//! The bounded queue in front of the generation thread, and the thread's loop.
//!
//! Callers push jobs and await a one-shot reply; one OS thread owned by the model pops
//! them in order and runs them one at a time. The queue holds at most `capacity`
//! waiting jobs (the running one not counted): a full queue answers
//! [`LlmError::Busy`] at once. A job whose caller cancels or goes away while it waits is
//! taken out of the queue and never starts; a running job sees it between tokens.
//!
//! The loop is generic over [`Runner`] so it can be tested without a model.

use crate::error::{LlmError, Result};
use crate::request::{GenerateRequest, Generation, Progress};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// A progress callback; runs on the generation thread.
pub(crate) type ProgressFn = Box<dyn FnMut(Progress<'_>) + Send>;

/// Runs one request on the generation thread.
pub(crate) trait Runner {
    fn run(&mut self, request: &GenerateRequest, control: &mut Control<'_>) -> Result<Generation>;
}

/// What a running job can ask of its caller: whether to stop, and progress reports.
pub(crate) struct Control<'a> {
    cancel: &'a CancellationToken,
    reply: &'a oneshot::Sender<Result<Generation>>,
    progress: Option<&'a mut ProgressFn>,
}

impl Control<'_> {
    /// True when the caller cancelled or stopped waiting: the job should end now.
    pub(crate) fn should_stop(&self) -> bool {
        self.cancel.is_cancelled() || self.reply.is_closed()
    }

    /// Hands progress to the caller's callback. A callback that panics is dropped (the
    /// generation goes on without it) rather than taking the thread down.
    pub(crate) fn report(&mut self, progress: Progress<'_>) {
        if let Some(callback) = self.progress.as_mut()
            && catch_unwind(AssertUnwindSafe(|| callback(progress))).is_err()
        {
            tracing::warn!("text generation progress callback panicked; ignoring it from now on");
            self.progress = None;
        }
    }
}

struct Job {
    id: u64,
    request: GenerateRequest,
    cancel: CancellationToken,
    progress: Option<ProgressFn>,
    enqueued: Instant,
    span: tracing::Span,
    reply: oneshot::Sender<Result<Generation>>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    next_id: u64,
    /// Set when the model is dropped or the thread has ended: no new jobs.
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, but never let poisoning spread.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a still-waiting job out of the queue; false when it has already started.
    fn withdraw(&self, id: u64) -> bool {
        let mut state = self.lock();
        match state.jobs.iter().position(|job| job.id == id) {
            Some(index) => {
                state.jobs.remove(index);
                true
            }
            None => false,
        }
    }
}

/// The submitting side, held by the model handle. Dropping it closes the queue and lets
/// the thread end after the job it is running.
pub(crate) struct Queue {
    shared: Arc<Shared>,
}

/// The thread's side.
pub(crate) struct Worker {
    shared: Arc<Shared>,
}

/// A queue and the worker end that serves it.
pub(crate) fn channel(capacity: usize) -> (Queue, Worker) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        wake: Condvar::new(),
        capacity,
    });
    (
        Queue {
            shared: shared.clone(),
        },
        Worker { shared },
    )
}

impl Queue {
    /// Queues a job, or refuses at once when the queue is full or closed.
    pub(crate) fn submit(
        &self,
        request: GenerateRequest,
        cancel: CancellationToken,
        progress: Option<ProgressFn>,
    ) -> Result<Pending> {
        let (reply, receiver) = oneshot::channel();
        let enqueued = Instant::now();
        let mut state = self.shared.lock();
        if state.closed {
            return Err(LlmError::WorkerStopped);
        }
        if state.jobs.len() >= self.shared.capacity {
            return Err(LlmError::Busy {
                capacity: self.shared.capacity,
            });
        }
        let id = state.next_id;
        state.next_id += 1;
        state.jobs.push_back(Job {
            id,
            request,
            cancel: cancel.clone(),
            progress,
            enqueued,
            span: tracing::Span::current(),
            reply,
        });
        drop(state);
        self.shared.wake.notify_one();
        Ok(Pending {
            shared: self.shared.clone(),
            id,
            cancel,
            enqueued,
            receiver,
        })
    }

    /// Requests waiting (not counting the one running).
    pub(crate) fn waiting(&self) -> usize {
        self.shared.lock().jobs.len()
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

/// A queued job, awaited by its caller. Dropping it (or the future of
/// [`wait`](Self::wait)) withdraws the job if it has not started; a running one notices
/// the closed reply channel and stops.
pub(crate) struct Pending {
    shared: Arc<Shared>,
    id: u64,
    cancel: CancellationToken,
    enqueued: Instant,
    receiver: oneshot::Receiver<Result<Generation>>,
}

impl Pending {
    pub(crate) async fn wait(mut self) -> Result<Generation> {
        tokio::select! {
            biased;
            reply = &mut self.receiver => reply.unwrap_or(Err(LlmError::WorkerStopped)),
            () = self.cancel.cancelled() => {
                if self.shared.withdraw(self.id) {
                    return Ok(Generation::cancelled_before_start(self.enqueued.elapsed()));
                }
                // Already running: it stops at the next token and replies.
                (&mut self.receiver).await.unwrap_or(Err(LlmError::WorkerStopped))
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.shared.withdraw(self.id);
    }
}

impl Worker {
    /// Serves jobs until the queue is closed. Runs on the generation thread.
    pub(crate) fn serve(self, runner: &mut impl Runner) {
        while let Some(mut job) = self.next() {
            let _span = job.span.clone().entered();
            let queue_time = job.enqueued.elapsed();
            if job.reply.is_closed() {
                continue;
            }
            if job.cancel.is_cancelled() {
                let _ = job
                    .reply
                    .send(Ok(Generation::cancelled_before_start(queue_time)));
                continue;
            }
            let mut control = Control {
                cancel: &job.cancel,
                reply: &job.reply,
                progress: job.progress.as_mut(),
            };
            let result = catch_unwind(AssertUnwindSafe(|| runner.run(&job.request, &mut control)))
                .unwrap_or_else(|panic| {
                    let message = panic_message(panic.as_ref());
                    tracing::error!(%message, "text generation panicked");
                    Err(LlmError::Inference(format!("internal error: {message}")))
                });
            let result = result.map(|mut generation| {
                generation.queue_time = queue_time;
                generation
            });
            let _ = job.reply.send(result);
        }
    }

    fn next(&self) -> Option<Job> {
        let mut state = self.shared.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            state = self
                .shared
                .wake
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

impl Drop for Worker {
    /// However the thread ends, close the queue and fail whoever still waits (their
    /// reply senders are dropped here: they get [`LlmError::WorkerStopped`]).
    fn drop(&mut self) {
        let jobs = {
            let mut state = self.shared.lock();
            state.closed = true;
            std::mem::take(&mut state.jobs)
        };
        drop(jobs);
    }
}

pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::StopReason;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Echoes the prompt; a prompt of "block" waits for the test's go-ahead (or for a
    /// stop request), "panic" panics.
    struct FakeRunner {
        started: mpsc::Sender<String>,
        go: mpsc::Receiver<()>,
    }

    impl Runner for FakeRunner {
        fn run(
            &mut self,
            request: &GenerateRequest,
            control: &mut Control<'_>,
        ) -> Result<Generation> {
            let _ = self.started.send(request.prompt.clone());
            let mut stopped = StopReason::EndOfText;
            match request.prompt.as_str() {
                "block" => loop {
                    if control.should_stop() {
                        stopped = StopReason::Cancelled;
                        break;
                    }
                    if self.go.recv_timeout(Duration::from_millis(5)).is_ok() {
                        break;
                    }
                },
                "panic" => panic!("boom"),
                _ => {}
            }
            control.report(Progress {
                completion_tokens: 1,
                max_tokens: 1,
                text: &request.prompt,
            });
            Ok(Generation {
                text: request.prompt.clone(),
                stopped,
                ..Generation::cancelled_before_start(Duration::ZERO)
            })
        }
    }

    struct Harness {
        queue: Queue,
        started: mpsc::Receiver<String>,
        go: mpsc::Sender<()>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    fn harness(capacity: usize) -> Harness {
        let (queue, worker) = channel(capacity);
        let (started_tx, started) = mpsc::channel();
        let (go, go_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            worker.serve(&mut FakeRunner {
                started: started_tx,
                go: go_rx,
            });
        });
        Harness {
            queue,
            started,
            go,
            thread: Some(thread),
        }
    }

    impl Harness {
        fn submit(&self, prompt: &str) -> Result<Pending> {
            self.queue
                .submit(GenerateRequest::new(prompt), CancellationToken::new(), None)
        }

        fn wait_started(&self, prompt: &str) {
            let started = self
                .started
                .recv_timeout(Duration::from_secs(5))
                .expect("job started");
            assert_eq!(started, prompt);
        }
    }

    #[tokio::test]
    async fn full_queue_answers_busy_and_frees_up() {
        let h = harness(2);
        let running = h.submit("block").unwrap();
        h.wait_started("block");
        let a = h.submit("a").unwrap();
        let b = h.submit("b").unwrap();
        let error = h.submit("c").err().expect("queue is full");
        assert!(matches!(error, LlmError::Busy { capacity: 2 }), "{error}");
        assert_eq!(error.code(), "busy");
        assert_eq!(h.queue.waiting(), 2);

        h.go.send(()).unwrap();
        assert_eq!(running.wait().await.unwrap().text, "block");
        assert_eq!(a.wait().await.unwrap().text, "a");
        assert_eq!(b.wait().await.unwrap().text, "b");
        assert_eq!(h.submit("d").unwrap().wait().await.unwrap().text, "d");
    }

    #[tokio::test]
    async fn cancelled_while_queued_never_starts() {
        let h = harness(4);
        let running = h.submit("block").unwrap();
        h.wait_started("block");
        let cancel = CancellationToken::new();
        let queued = h
            .queue
            .submit(GenerateRequest::new("queued"), cancel.clone(), None)
            .unwrap();
        let waiting = tokio::spawn(queued.wait());
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancel.cancel();
        let generation = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("a queued request returns at once when cancelled")
            .unwrap()
            .unwrap();
        assert_eq!(generation.stopped, StopReason::Cancelled);
        assert_eq!(generation.text, "");
        assert_eq!(h.queue.waiting(), 0);

        // A job cancelled before it is even queued behind nothing also never runs.
        let cancel = CancellationToken::new();
        cancel.cancel();
        let pre = h
            .queue
            .submit(GenerateRequest::new("pre"), cancel, None)
            .unwrap();
        assert_eq!(pre.wait().await.unwrap().stopped, StopReason::Cancelled);

        h.go.send(()).unwrap();
        assert_eq!(running.wait().await.unwrap().text, "block");
        assert_eq!(
            h.submit("after").unwrap().wait().await.unwrap().text,
            "after"
        );
        h.wait_started("after");
        assert!(h.started.try_recv().is_err(), "neither cancelled job ran");
    }

    #[tokio::test]
    async fn cancelling_the_running_job_stops_it() {
        let h = harness(1);
        let cancel = CancellationToken::new();
        let running = h
            .queue
            .submit(GenerateRequest::new("block"), cancel.clone(), None)
            .unwrap();
        h.wait_started("block");
        cancel.cancel();
        let generation = tokio::time::timeout(Duration::from_secs(2), running.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(generation.stopped, StopReason::Cancelled);
    }

    #[tokio::test]
    async fn dropped_caller_does_not_wedge_the_thread() {
        let h = harness(2);
        let running = h.submit("block").unwrap();
        h.wait_started("block");
        let queued = h.submit("dropped").unwrap();
        drop(queued);
        assert_eq!(
            h.queue.waiting(),
            0,
            "a dropped waiting job leaves the queue"
        );
        drop(running); // the running job sees its reply channel closed and stops
        assert_eq!(h.submit("next").unwrap().wait().await.unwrap().text, "next");
    }

    #[tokio::test]
    async fn panics_become_errors_and_the_thread_goes_on() {
        let h = harness(2);
        let error = h.submit("panic").unwrap().wait().await.unwrap_err();
        assert!(
            matches!(error, LlmError::Inference(ref m) if m.contains("boom")),
            "{error}"
        );
        assert_eq!(h.submit("ok").unwrap().wait().await.unwrap().text, "ok");
    }

    #[tokio::test]
    async fn progress_callbacks_run_and_a_panicking_one_is_dropped() {
        let h = harness(2);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let progress: ProgressFn = Box::new(move |p| sink.lock().unwrap().push(p.text.to_owned()));
        let pending = h
            .queue
            .submit(
                GenerateRequest::new("hi"),
                CancellationToken::new(),
                Some(progress),
            )
            .unwrap();
        pending.wait().await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec!["hi".to_owned()]);

        let progress: ProgressFn = Box::new(|_| panic!("callback bug"));
        let pending = h
            .queue
            .submit(
                GenerateRequest::new("x"),
                CancellationToken::new(),
                Some(progress),
            )
            .unwrap();
        assert_eq!(pending.wait().await.unwrap().text, "x");
    }

    #[tokio::test]
    async fn closing_the_queue_ends_the_thread_and_fails_waiters() {
        let mut h = harness(2);
        let running = h.submit("block").unwrap();
        h.wait_started("block");
        let queued = h.submit("queued").unwrap();
        let thread = h.thread.take().unwrap();
        let Harness { queue, go, .. } = h;
        drop(queue);
        go.send(()).unwrap();
        assert_eq!(running.wait().await.unwrap().text, "block");
        assert!(matches!(queued.wait().await, Err(LlmError::WorkerStopped)));
        thread.join().unwrap();
    }
}
